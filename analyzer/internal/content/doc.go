// Package content finds many literal byte patterns at once in file contents.
//
// It is the byte-level search behind oemtrace's content rules: a rule set
// compiles once into an immutable [Matcher], which then scans any number of
// files, concurrently if wanted, in memory bounded independently of file size.
//
// Every occurrence of every pattern is reported, overlapping ones included,
// in stream order: by the offset of the match's first byte and, for equal
// offsets, by the pattern's position in the slice given to [Compile]. Callers
// that only need a verdict, or a few offsets per pattern, stop or cap in
// their callback; the callback returning false ends the scan at once.
//
// # Design
//
// Unanchored patterns form one Aho-Corasick automaton, stored as a dense DFA:
// bytes are mapped to equivalence classes (ASCII letters folded together),
// each state is a row of int32 transitions pre-multiplied by the row width,
// and states are numbered so that a single comparison tells whether the
// automaton is near its start state or in a state with matches. The DFA is
// linear in the input whatever the patterns and data.
//
// The DFA only runs around candidate positions. A 64 KiB table, indexed by
// two consecutive input bytes, marks the first two bytes of every pattern
// (with all case variants for Fold patterns); while the automaton is at its
// start, an unrolled loop reads eight bytes at a time and looks up the eight
// byte pairs starting in them, handing over to the DFA only where one is
// marked. When the DFA falls back to depth 0, or to depth 1 where the
// current pair is unmarked, no match can be in progress and scanning returns
// to the skip loop. Real binaries contain few of the pattern prefixes (for
// 200 typical indicator strings, one marked pair per ~100 bytes of
// /usr/lib), so most bytes are only seen by the skip loop.
//
// Memory: the transition table takes 4 bytes per state and byte class (200
// literals of 4 to 64 bytes: about 2,100 states, 47 classes, 400 KiB);
// [Compile] refuses sets needing more than 2^26 entries.
//
// Because the DFA folds ASCII case for every pattern, a match of a pattern
// without Fold that contains letters is confirmed against the input bytes
// before it is reported. Anchored patterns (AtOffset >= 0) never enter the
// automaton: they are compared directly once the bytes at their offset have
// been read.
package content
