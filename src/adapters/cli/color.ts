// Whether a stream's output may carry ANSI colours (docs/cli.md#output). NO_COLOR set to
// anything turns them off (https://no-color.org); FORCE_COLOR turns them on (0 or false: off);
// otherwise only a terminal that is not "dumb" gets them, never a pipe or a file.

export interface ColorEnvironment {
  readonly NO_COLOR?: string | undefined;
  readonly FORCE_COLOR?: string | undefined;
  readonly TERM?: string | undefined;
}

export function colorsFor(env: ColorEnvironment, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return isTTY && env.TERM !== 'dumb';
}
