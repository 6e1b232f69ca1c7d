/** A method-level error (RFC 8620 §3.6.2): the response is ["error", { type, description }, callId]. */
export class MethodError extends Error {
  constructor(
    readonly type: string,
    description?: string,
  ) {
    super(description ?? type);
  }
}
