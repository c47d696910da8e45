package render

import "github.com/gokd/kd/internal/commands"

// Command groups keep their results' renderers in files of their own and
// add them here from an init function, so that a new group touches no
// shared switch. Text tries the built-in results first, then these in
// order; the first renderer that knows the result wins.
var (
	// textRenderers render one result in KD's text and report whether
	// they knew it.
	textRenderers []func(r *Text, res commands.Result) bool
	// jsonRenderers return one result's JSON data (a map or slice of
	// plain values) and whether they knew it.
	jsonRenderers []func(res commands.Result) (any, bool)
)

// addRenderers registers the renderers of one command group.
func addRenderers(text func(r *Text, res commands.Result) bool, json func(res commands.Result) (any, bool)) {
	textRenderers = append(textRenderers, text)
	jsonRenderers = append(jsonRenderers, json)
}

// textFallback renders res with the registered text renderers; a result
// nobody knows is shown as its JSON data, so that output is never lost.
func (r *Text) textFallback(res commands.Result) {
	if r.symResult(res) {
		return
	}
	for _, f := range textRenderers {
		if f(r, res) {
			return
		}
	}
	if d, ok := registeredData(res); ok {
		r.Out.Printf("%s: %v", res.ResultName(), d)
	}
}

// registeredData returns res's JSON data from the registered renderers.
func registeredData(res commands.Result) (any, bool) {
	for _, f := range jsonRenderers {
		if d, ok := f(res); ok {
			return d, true
		}
	}
	return nil, false
}
