/**
 * System directories every sandbox sees read-only, whole. /etc and /opt are not among them: of
 * /etc commands see only what tools need (`ETC_ALLOW_LIST`), of /opt only the tool installations
 * on PATH (`toolchainPaths`); whatever else exists on the host stays invisible.
 */
export const SYSTEM_PATHS: readonly string[] = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/nix'];

/** Directories shown only in part: never mounted whole, not even as a tool's installation prefix. */
export const PARTLY_SHOWN_PATHS: readonly string[] = ['/etc', '/opt'];
