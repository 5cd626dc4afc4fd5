import { SurgeError, type ErrorCode } from '../errors.js';

/**
 * Parses YAML (or JSON) text read from `path` into plain values; syntax errors become one
 * SurgeError with `code`, each problem on one line with its line and column. `yaml` is loaded
 * here, not at start-up.
 */
export async function parseYamlText(text: string, path: string, code: ErrorCode): Promise<unknown> {
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SurgeError(code, `${path} is not valid YAML`, {
      // the first line of each problem, without the ':' that led into the code excerpt below it
      details: doc.errors.map((e) => (e.message.split('\n')[0] ?? e.message).replace(/\s*:\s*$/, '')),
      hint: 'Fix the syntax at the line and column given.',
    });
  }
  return doc.toJS();
}
