// SPEC §6: values from the network are escaped before they reach a log line or a terminal, so
// a file name cannot forge log lines (\n) or drive the terminal (ESC sequences).

// C0/C1 controls, DEL, line separators and bidi overrides.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

export function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
