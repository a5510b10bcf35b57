import { describe, expect, it } from 'vitest';
import { sandboxVisibilityQuery } from '../../src/service/visibility-query.js';

describe('visibility queries', () => {
  it('lists live sandboxes of one owner by default', () => {
    expect(sandboxVisibilityQuery({ owner: 'alice' })).toBe(
      "WorkflowType = 'sandboxWorkflow' AND BerthOwner = 'alice' AND ((ExecutionStatus = 'Running' AND BerthState IN ('creating', 'running', 'paused')))",
    );
  });
  it('combines live and ended states and metadata', () => {
    const q = sandboxVisibilityQuery({ owner: 'a', statuses: ['paused', 'stopped'], metadata: ['job=1', 'x=y'] });
    expect(q).toContain("(ExecutionStatus = 'Running' AND BerthState IN ('paused')) OR (ExecutionStatus = 'Completed' AND BerthState IN ('stopped'))");
    expect(q).toContain("BerthMetadata = 'job=1' AND BerthMetadata = 'x=y'");
  });
  it('refuses quotes (no query injection)', () => {
    expect(() => sandboxVisibilityQuery({ owner: "a' OR '1'='1" })).toThrow();
  });
});
