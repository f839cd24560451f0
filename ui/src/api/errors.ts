// API errors in plain words: the server's message names the field and the fix; a few codes
// read better said otherwise to a person in a browser.

export interface FieldError {
  field: string;
  message: string;
}

const PLAIN: Record<string, string> = {
  session_expired: "Your session has ended. Sign in again.",
  missing_token: "You are signed out. Sign in to go on.",
  invalid_credentials: "That email and password do not match an account.",
  forbidden: "Your role does not allow this. Ask an owner of the workspace.",
  pii_read_required: "This holds personal data, which your role may not see.",
  too_many_attempts: "Too many attempts. Wait a minute, then try again.",
  unavailable: "Headwater is busy or its database is unreachable. Try again in a moment.",
  internal_error: "Something went wrong on the server. Try again; if it keeps failing, tell an administrator.",
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }

  static of(status: number, body: unknown): ApiError {
    const value = (body ?? {}) as { code?: string; message?: string; errors?: FieldError[] };
    const code = value.code ?? `http_${status}`;
    const fields = Array.isArray(value.errors) ? value.errors : [];
    const message =
      PLAIN[code] ?? (value.message ? sentence(value.message) : `The request failed (${status}).`);
    return new ApiError(status, code, message, fields);
  }
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** What to show a person for any error thrown while loading or saving. */
export function plain(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong in the page. Reload it and try again.";
}
