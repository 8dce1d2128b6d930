import { CliError, EXIT } from './cli-error.ts';
import { COMMANDS } from './commands/index.ts';
import { cliVersion } from './deployment/templates.ts';
import { type CliIo } from './io.ts';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: rtc-sidecars <command> [DIR] [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'DIR is the deployment folder (default: the current folder).',
    'Run "rtc-sidecars <command> --help" for the options of one command,',
    '"rtc-sidecars --version" for the version.',
  ].join('\n');
}

/**
 * Runs `rtc-sidecars` with `argv` (without the node and script paths) and returns the exit
 * code. Operator errors print as one line on stderr; only bugs print a stack.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`rtc-sidecars ${cliVersion()}`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(
      `rtc-sidecars: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`,
    );
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`rtc-sidecars ${name}: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}
