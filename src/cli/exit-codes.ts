/** Process exit codes shared by every command. */
export const EXIT_OK = 0;
/** The command ran but the outcome is a failure (partial run, failed probe). */
export const EXIT_FAILED = 1;
/** Bad input: unknown command or flag, invalid config, missing repository. */
export const EXIT_BAD_INPUT = 2;
