import { type HearthError, isHearthError } from "@hearth/contracts";

/** The HearthError a promise rejects with (its code and message are what a test checks); anything else fails the test. */
export async function caughtHearthError(p: Promise<unknown>): Promise<HearthError> {
  try {
    await p;
  } catch (e) {
    if (isHearthError(e)) return e;
    throw e;
  }
  throw new Error("expected a HearthError, got success");
}
