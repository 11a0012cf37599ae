// Characters that must never reach a file name, a log line or a terminal as they are
// (docs/defences.md#names), named by Unicode's own classes rather than a hand list, so a code
// point the list forgot (U+061C ARABIC LETTER MARK was one) cannot slip through:
// - Cc: C0 and C1 controls and DEL (terminal escapes, line breaks that forge log lines);
// - Cf: format characters (bidi marks and overrides, zero-width joiners, U+FEFF, U+00AD);
// - Zl, Zp: the Unicode line and paragraph separators;
// - Bidi_Control and Default_Ignorable_Code_Point: everything that reorders text or renders as
//   nothing, so a name cannot look like another one on screen.
// Unassigned code points are refused too: what they will mean is not known yet.
export const UNSAFE_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\p{Cn}]/u;
export const UNSAFE_CHARACTERS = new RegExp(UNSAFE_CHARACTER.source, 'gu');
