/* global process */
// node --import ./test/support/record-imports.mjs <script>: appends every module URL the process
// resolves to the file named by SURGECTL_RECORD_IMPORTS, one per line (to check what a command loads).
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.SURGECTL_RECORD_IMPORTS } });
