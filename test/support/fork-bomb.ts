/**
 * A fork bomb with a floor under it: it doubles its processes level by level, far past a test's
 * process limit, but stops at 255 of them (each sleeps a second), so a broken limit costs the
 * machine nothing. An unbounded one (`:(){ :|:& };:`) once took a shared test machine down.
 */
export const FORK_BOMB = 'bomb() { if [ "$1" -lt 7 ]; then bomb $(($1 + 1)) | bomb $(($1 + 1)); fi; sleep 1; }; bomb 0';
