/** Thrown by a command that has printed its result and must end with a given exit code (e.g. 1 for a rejected promotion). */
export class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'CliExit';
  }
}
