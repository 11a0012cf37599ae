// Values from the network are escaped before they reach a log line or a terminal, so a file name
// cannot forge log lines (\n), drive the terminal (ESC sequences) or reorder what is shown (bidi
// controls): every character of the unsafe classes becomes \uXXXX (docs/defences.md#names).
import { UNSAFE_CHARACTERS } from './unsafe-characters.js';

export function escapeText(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
