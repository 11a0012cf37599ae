// A name from the network is validated, never repaired silently (docs/defences.md#names).
import { utf8 } from '../bytes.js';
import { fail, ok, type Result } from '../errors.js';
import { MAX_FILE_NAME_BYTES } from '../limits.js';

// Windows reserves these device names with any extension (CON.txt is still CON).
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
import { UNSAFE_CHARACTER } from '../unsafe-characters.js';
// Characters that look like separators, and that Windows' "best fit" conversion or NFKC-minded
// tools turn into real ones (U+FF0F becomes "/", U+FF3C becomes "\").
const LOOKALIKE_SEPARATORS = /[\u2044\u2215\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c]/u;
const FORBIDDEN_CHARACTERS = /[<>:"|?*]/;

/**
 * The key two names collide under: NFC, then case folded. Upper then lower case folds the
 * letters whose lower case alone would not meet (ß and SS, ſ and s), as case-insensitive file
 * systems do.
 */
export function collisionKey(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** Names of our own making in the output folder (partial files, hidden folders, markers) start with this. */
const RESERVED_PREFIX = '.securetransfer-';

/** Returns the name unchanged when it is acceptable (it must already be NFC), or a failure saying what is wrong. */
export function validateFileName(name: string): Result<string> {
  if (name.length === 0) return fail('E_NAME_INVALID', 'file name is empty');
  if (name.normalize('NFC') !== name) return fail('E_NAME_INVALID', 'file name is not in Unicode NFC form');
  if (utf8(name).length > MAX_FILE_NAME_BYTES) return fail('E_NAME_INVALID', `file name longer than ${MAX_FILE_NAME_BYTES} bytes`);
  if (/[\uD800-\uDFFF]/.test(name.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')))
    return fail('E_NAME_INVALID', 'file name has an unpaired surrogate');
  if (UNSAFE_CHARACTER.test(name)) return fail('E_NAME_INVALID', 'file name contains control, escape or direction characters');
  if (name.includes('/') || name.includes('\\')) return fail('E_NAME_INVALID', 'file name contains a path separator');
  if (LOOKALIKE_SEPARATORS.test(name))
    return fail('E_NAME_INVALID', 'file name contains a character that looks like or converts to a path separator');
  if (name === '.' || name === '..') return fail('E_NAME_INVALID', 'file name is a relative directory reference');
  if (/^[a-zA-Z]:/.test(name)) return fail('E_NAME_INVALID', 'file name starts with a drive letter');
  if (FORBIDDEN_CHARACTERS.test(name)) return fail('E_NAME_INVALID', 'file name contains a character Windows forbids (<>:"|?*)');
  if (/[. ]$/.test(name)) return fail('E_NAME_INVALID', 'file name ends with a dot or a space');
  if (/^ /.test(name)) return fail('E_NAME_INVALID', 'file name starts with a space');
  if (WINDOWS_RESERVED.test(name)) return fail('E_NAME_INVALID', 'file name is a Windows reserved device name');
  // In any case: on a case-insensitive file system .SecureTransfer-x is the same name.
  if (collisionKey(name).startsWith(RESERVED_PREFIX))
    return fail('E_NAME_INVALID', `file name uses the prefix reserved for partial files (${RESERVED_PREFIX}, in any case)`);
  return ok(name);
}
