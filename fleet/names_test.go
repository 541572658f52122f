package fleet

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"books", true},
		{"a", true},
		{"7", true},
		{"0day", true},
		{"hero_books-2", true},
		{"a-", true},
		{"a_", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-books", false},
		{"_books", false},
		{"Books", false},
		{"books.web", false},
		{"books web", false},
		{"books/web", false},
		{"../etc", false},
		{"bök", false},
		{"books\n", false},
	} {
		if got := ValidName(tc.name); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestValidEnvName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"PATH", true},
		{"PATH_ROOT", true},
		{"_x", true},
		{"lower", true},
		{"A1", true},
		{"", false},
		{"1A", false},
		{"A-B", false},
		{"A B", false},
		{"A=B", false},
		{"A.B", false},
		{"Ä", false},
	} {
		if got := ValidEnvName(tc.name); got != tc.ok {
			t.Errorf("ValidEnvName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestValidSHA256(t *testing.T) {
	sum := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" // sha256("test")
	for _, tc := range []struct {
		name, s string
		ok      bool
	}{
		{"64 lowercase hex digits", sum, true},
		{"all zero", strings.Repeat("0", 64), true},
		{"uppercase", strings.ToUpper(sum), false},
		{"one short", sum[:63], false},
		{"one over", sum + "0", false},
		{"not hex", "g" + sum[1:], false},
		{"with a prefix", "sha256:" + sum, false},
		{"with white space", sum + "\n", false},
		{"empty", "", false},
	} {
		if got := ValidSHA256(tc.s); got != tc.ok {
			t.Errorf("%s: ValidSHA256(%q) = %v, want %v", tc.name, tc.s, got, tc.ok)
		}
	}
}
