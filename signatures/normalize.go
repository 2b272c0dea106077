package signatures

import (
	"strings"
	"unicode"
)

// legalForms are words that name a company's legal form rather than the
// company. They are dropped before entity names are compared, so that
// "AO Kaspersky Lab", "Kaspersky Lab ZAO" and "АО «Лаборатория
// Касперского»" all reduce to the same words as "Kaspersky Lab".
var legalForms = map[string]bool{
	// Latin forms.
	"ao": true, "zao": true, "oao": true, "pao": true, "ooo": true,
	"jsc": true, "cjsc": true, "ojsc": true, "pjsc": true,
	"ltd": true, "limited": true, "gmbh": true, "inc": true, "incorporated": true,
	"llc": true, "fz": true, "corp": true, "corporation": true, "co": true,
	"company": true, "plc": true, "ag": true, "sa": true, "sarl": true,
	"bv": true, "srl": true, "kk": true, "pte": true, "pty": true,
	// Russian forms: АО, ЗАО, ОАО, ПАО, ООО, and the spelled-out words.
	"ао": true, "зао": true, "оао": true, "пао": true, "ооо": true,
	"акционерное": true, "закрытое": true, "открытое": true, "публичное": true,
	"общество": true, "с": true, "ограниченной": true, "ответственностью": true,
}

// words lowercases s and splits it into words of letters and digits; every
// other rune (punctuation, quotes such as « », ©, dashes) separates words.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// patternWords is words for an entity pattern: like entityWords, but a "*"
// stays attached to the word it ends (a prefix wildcard).
func patternWords(s string) []string {
	ws := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '*'
	})
	return dropLegalForms(ws)
}

// entityWords is words without legal forms.
func entityWords(s string) []string { return dropLegalForms(words(s)) }

func dropLegalForms(ws []string) []string {
	out := ws[:0]
	for _, w := range ws {
		if !legalForms[w] {
			out = append(out, w)
		}
	}
	return out
}

// NormalizeEntity returns the canonical spelling of an organization name:
// lower case, punctuation and quotes removed, legal forms dropped, words
// joined by single spaces. "АО «Лаборатория Касперского»" becomes
// "лаборатория касперского"; "Kaspersky Lab, Inc." becomes "kaspersky lab".
func NormalizeEntity(s string) string { return strings.Join(entityWords(s), " ") }

// holderNoise are words that may surround a copyright holder's name without
// naming another holder.
var holderNoise = map[string]bool{
	"copyright": true, "c": true, "all": true, "rights": true, "reserved": true,
	"by": true, "and": true, "its": true, "affiliates": true, "the": true,
	"авторские": true, "права": true, "защищены": true, "все": true,
}

// wordMatch reports whether word w matches pattern p; a pattern ending in
// "*" matches any word with that prefix.
func wordMatch(p, w string) bool {
	if strings.HasSuffix(p, "*") {
		return strings.HasPrefix(w, p[:len(p)-1])
	}
	return p == w
}

// findWords returns the index of the first run of ws that matches the
// pattern words pat in order, or -1.
func findWords(ws, pat []string) int {
	if len(pat) == 0 {
		return -1
	}
outer:
	for i := 0; i+len(pat) <= len(ws); i++ {
		for j, p := range pat {
			if !wordMatch(p, ws[i+j]) {
				continue outer
			}
		}
		return i
	}
	return -1
}

// onlyHolder reports whether ws, with the words of every run matching
// one of pats removed, holds nothing but years and copyright noise.
func onlyHolder(ws []string, pats [][]string) bool {
	used := make([]bool, len(ws))
	for _, pat := range pats {
		for i := 0; i+len(pat) <= len(ws); i++ {
			ok := true
			for j, p := range pat {
				if !wordMatch(p, ws[i+j]) {
					ok = false
					break
				}
			}
			if ok {
				for j := range pat {
					used[i+j] = true
				}
			}
		}
	}
	for i, w := range ws {
		if used[i] || holderNoise[w] || legalForms[w] || isDigits(w) {
			continue
		}
		return false
	}
	return true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
