import { userInfo } from 'node:os';

/**
 * Who acts when the caller names no one: $KILN_USER, then the login name the environment carries ($USER, $LOGNAME,
 * $USERNAME on Windows), then the OS account running the process (containers and CI often set none of those
 * variables). Undefined only when the OS has no name for the account either (a uid without a passwd entry).
 */
export function defaultUser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const v of [env.KILN_USER, env.USER, env.LOGNAME, env.USERNAME]) if (v) return v;
  try {
    return userInfo().username || undefined;
  } catch {
    // os.userInfo() throws when the uid has no entry in the password database.
    return undefined;
  }
}
