import { doctorCommand } from '../doctor/doctor-command.ts';
import { checkCommand } from './check-command.ts';
import { type Command } from './command.ts';
import { initCommand } from './init-command.ts';
import { migrateCommand } from './migrate-command.ts';

export { type Command } from './command.ts';

/** Every sub-command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  initCommand,
  checkCommand,
  doctorCommand,
  migrateCommand,
];
