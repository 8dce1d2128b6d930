import type { DoctorProgress } from './run-doctor.ts';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Where the spinner draws: a terminal stream (in practice `process.stderr`). */
export interface SpinnerStream {
  write(text: string): unknown;
}

/**
 * A one-line spinner on a terminal while a check runs ("⠋ checking TURN relay …"), erased
 * before the check's result is printed. Only for a TTY: pipes and `--json` get no progress.
 */
export function spinnerProgress(
  stream: SpinnerStream,
  printResult: NonNullable<DoctorProgress['done']>,
): DoctorProgress {
  let timer: NodeJS.Timeout | undefined;
  const clear = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    stream.write('\r\x1b[K');
  };
  return {
    start: (title) => {
      let frame = 0;
      const draw = (): void => {
        stream.write(`\r\x1b[K${FRAMES[frame % FRAMES.length] ?? ''} checking ${title}…`);
        frame += 1;
      };
      draw();
      timer = setInterval(draw, 80);
      timer.unref();
    },
    done: (result) => {
      clear();
      printResult(result);
    },
  };
}
