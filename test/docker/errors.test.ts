import { describe, expect, it } from 'vitest';
import { dataPlaneError, dockerFailure, PathMissingError } from '../../src/docker/errors.js';
import { ConflictError, ContainerMissingError, InvalidArgumentError, UnavailableError } from '../../src/errors.js';

/** An error shaped like dockerode's: the engine's status and its JSON message. */
function engine(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });
}

// Messages as Docker 26 words them.
describe('dockerFailure (the decoding table)', () => {
  it.each([
    [Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), 'engine-unreachable'],
    [engine(404, 'No such container: abc'), 'no-such-container'],
    [engine(404, 'Could not find the file /nope in container abc'), 'no-such-path'],
    // What dockerode really throws for GET /archive of a missing path (no JSON body parsed).
    [Object.assign(new Error('(HTTP code 404) no such container - Could not find the file /nope in container abc'), { statusCode: 404, json: null }), 'no-such-path'],
    [engine(404, 'No such image: busybox:nope'), 'not-found'],
    [engine(409, 'Container abc is paused, unpause the container before exec'), 'paused'],
    [engine(409, 'Container abc is already paused'), 'already-paused'],
    [engine(409, 'Container abc is not paused'), 'not-paused'],
    [engine(409, 'Container abc is not running'), 'not-running'],
    [engine(409, 'removal of container abc is already in progress'), 'removal-in-progress'],
    [engine(304, ''), 'not-modified'],
    [engine(500, 'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nope") set in config.json failed: no such file or directory'), 'bad-cwd'],
    [engine(500, 'unable to find user bob: no matching entries in passwd file'), 'bad-user'],
    [engine(500, 'something else'), 'other'],
  ])('%s → %s', (err, failure) => {
    expect(dockerFailure(err)).toBe(failure);
  });
});

describe('dataPlaneError (what a front door answers)', () => {
  it('a missing or exited container is container_lost, a paused one a 409, an unreachable engine a 503', () => {
    expect(dataPlaneError(engine(404, 'No such container: abc'), 'abc')).toBeInstanceOf(ContainerMissingError);
    expect(dataPlaneError(engine(409, 'Container abc is not running'), 'abc')).toBeInstanceOf(ContainerMissingError);
    expect(dataPlaneError(engine(409, 'Container abc is paused, unpause the container before exec'), 'abc')).toBeInstanceOf(ConflictError);
    expect(dataPlaneError(new Error('connect ECONNREFUSED'), 'abc')).toBeInstanceOf(UnavailableError);
  });

  it('with a path, a missing path is a 404 on the path and a file in the way a 400; without, the container is missing', () => {
    expect(dataPlaneError(engine(404, 'Could not find the file /nope in container abc'), 'abc', { path: '/nope' })).toBeInstanceOf(PathMissingError);
    expect(dataPlaneError(engine(400, 'not a directory'), 'abc', { path: '/f/x' })).toBeInstanceOf(InvalidArgumentError);
    expect(dataPlaneError(engine(404, 'No such container: abc'), 'abc', { path: '/x' })).toBeInstanceOf(ContainerMissingError);
  });

  it("with exec, a bad cwd or user is the caller's 400; elsewhere the engine's error stays as it is", () => {
    const chdir = engine(500, 'OCI runtime exec failed: chdir to cwd ("/nope") set in config.json failed: no such file or directory');
    expect(dataPlaneError(chdir, 'abc', { exec: true })).toBeInstanceOf(InvalidArgumentError);
    expect(dataPlaneError(engine(500, 'unable to find user bob: no matching entries in passwd file'), 'abc', { exec: true })).toBeInstanceOf(InvalidArgumentError);
    const other = engine(500, 'something else');
    expect(dataPlaneError(other, 'abc')).toBe(other);
  });
});
