import { fileURLToPath } from 'node:url';

/** The repository's root folder (this file lives in packages/stack/src/launcher/). */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
