import type { TextSink } from '../runtime.js';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/**
 * Writes a command's result: JSON and YAML are for machines and print the data as is; `table`
 * calls the command's own human renderer. YAML is imported lazily to keep start-up lean.
 */
export async function writeResult(sink: TextSink, format: OutputFormat, data: unknown, human: () => string): Promise<void> {
  if (format === 'json') {
    sink.write(JSON.stringify(data, null, 2) + '\n');
  } else if (format === 'yaml') {
    const { stringify } = await import('yaml');
    sink.write(stringify(data));
  } else {
    sink.write(human());
  }
}
