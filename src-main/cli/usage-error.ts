/** A command line the CLI cannot run as given: exit status 2, with the usage hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}
