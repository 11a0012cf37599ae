// docs/requirements.md#command-line: exit statuses are stable and documented (README "Exit status").
export const EXIT_OK = 0;
export const EXIT_TRANSFER_FAILED = 1;
export const EXIT_USAGE = 2;
