/**
 * The one error root of berth. Every error a user can see is a {@link BerthError}
 * with a stable `code`, an HTTP `status` and a message that says what to do.
 */
export class BerthError extends Error {
  /** Stable machine-readable code, e.g. `not_found`. */
  readonly code: string;
  /** HTTP status the API answers with. */
  readonly status: number;

  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** 400: the request is malformed or names something that cannot exist. */
export class InvalidArgumentError extends BerthError {
  constructor(message: string, code = 'invalid_argument') {
    super(code, 400, message);
  }
}

/** 401: no API key, or a key berth does not know. */
export class UnauthorizedError extends BerthError {
  constructor(message: string) {
    super('unauthorized', 401, message);
  }
}

/** 404: the sandbox (or path, or command) does not exist, is stopped, or belongs to someone else. */
export class NotFoundError extends BerthError {
  constructor(message: string) {
    super('not_found', 404, message);
  }
}

/**
 * 404 from the data plane: Docker has no running container for a sandbox that should have one
 * (removed by hand, exited, lost in an engine restart). The API reports it to the sandbox's
 * workflow, which checks and stops it with `container_lost`.
 */
export class ContainerMissingError extends NotFoundError {
  constructor(
    readonly sandboxID: string,
    message: string,
  ) {
    super(message);
  }
}

/** 409: the request is valid but not in the sandbox's current state. */
export class ConflictError extends BerthError {
  constructor(message: string) {
    super('conflict', 409, message);
  }
}

/** 429: the owner has reached a quota. */
export class QuotaExceededError extends BerthError {
  constructor(message: string) {
    super('quota_exceeded', 429, message);
  }
}

/** 502: Docker refused to provision the sandbox. */
export class ProvisionFailedError extends BerthError {
  constructor(message: string) {
    super('provision_failed', 502, message);
  }
}

/** 503: a dependency (Temporal, Docker) is unreachable or overloaded; `retryAfterS` becomes a Retry-After header. */
export class UnavailableError extends BerthError {
  readonly retryAfterS: number | undefined;

  constructor(message: string, options: { retryAfterS?: number } = {}) {
    super('unavailable', 503, message);
    this.retryAfterS = options.retryAfterS;
  }
}

/** 413: the payload is larger than berth accepts. */
export class PayloadTooLargeError extends BerthError {
  constructor(message: string) {
    super('payload_too_large', 413, message);
  }
}

/** 507: the sandbox's disk (or its quota) is full. */
export class InsufficientStorageError extends BerthError {
  constructor(message: string) {
    super('insufficient_storage', 507, message);
  }
}

/** 502: a server inside the sandbox did not answer (port proxy). */
export class UpstreamUnavailableError extends BerthError {
  constructor(message: string) {
    super('upstream_unavailable', 502, message);
  }
}

/** 501: a feature of a wire protocol that berth does not offer (the message says what instead). */
export class NotSupportedError extends BerthError {
  constructor(message: string) {
    super('not_supported', 501, message);
  }
}

/** 403: the caller is known but may not do this (admin-only operations). */
export class ForbiddenError extends BerthError {
  constructor(message: string) {
    super('forbidden', 403, message);
  }
}
