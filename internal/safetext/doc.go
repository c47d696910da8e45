// Package safetext makes bytes from the target safe to show on a
// terminal: control bytes and invalid UTF-8 become visible escapes and
// overlong lines are broken. Every byte from a target is hostile; nothing
// the target sends reaches the terminal without passing through here (the
// JSON renderer escapes instead).
package safetext
