/**
 * Ends the process quietly when the reader of its stdout or stderr goes away, as in
 * `./junction schemas register | head`: Node ignores SIGPIPE, so each later write fails with
 * EPIPE, which is an unhandled 'error' event (a crash with a stack trace) unless handled here.
 * What the command set as its exit code stands; any other stream error is still thrown.
 */
export function exitQuietlyWhenPipeCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit();
    });
  }
}
