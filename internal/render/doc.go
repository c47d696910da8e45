// Package render turns the debugger core's events (internal/target) and
// the commands' results (internal/commands) into what a user or a program
// reads: KD's own text formats (Text) and one JSON object per line
// (JSON, documented in docs/json.md). Renderers hold no debugger state;
// they only format what they are given, and they are the only place where
// the layout of kd's output is decided.
package render
