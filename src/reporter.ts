/**
 * The port through which domain code talks to a person without printing. It sits at the top of
 * src/ beside runtime.ts so that domain modules (forecast, loadtest, chaos, rehearse) and ui/ both
 * depend on it rather than on each other.
 */
export type NotifyLevel = 'info' | 'warn' | 'success' | 'progress' | 'debug';

/**
 * How domain code talks to a person without printing: messages and yes/no questions.
 * (aws-cdk's IoHost idea.) Tests use a recording reporter.
 */
export interface Reporter {
  notify(message: string, level?: NotifyLevel): void;
  /**
   * Asks a yes/no question. With --yes the answer is yes; off a TTY without --yes it refuses
   * with SRG_CLI_NOT_A_TTY, so an unattended run never changes a live system by accident.
   */
  confirm(question: string, defaultAnswer: boolean): Promise<boolean>;
}

/** A reporter for tests and library use: records messages and answers questions with a fixed answer. */
export function createRecordingReporter(answer = true): Reporter & { messages: { level: NotifyLevel; message: string }[] } {
  const messages: { level: NotifyLevel; message: string }[] = [];
  return {
    messages,
    notify(message, level = 'info') {
      messages.push({ level, message });
    },
    async confirm() {
      return answer;
    },
  };
}
