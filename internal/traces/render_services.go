package traces

import (
	"strconv"

	"github.com/batchxray/batchxray/internal/ui"
)

// services writes the service map, wrapped at the width.
func (r *renderer) services(sum Summary) {
	chunks := make([][]piece, 0, len(sum.Services))
	for _, sc := range sum.Services {
		entry := []piece{{sc.Name, r.bold}}
		add := func(n int, glyph string, p paint) {
			if n > 0 {
				entry = append(entry, piece{" " + glyph + strconv.Itoa(n), p})
			}
		}
		add(sc.OK, ui.GlyphOK, r.ok)
		add(sc.Errors, ui.GlyphWarn, r.warn)
		add(sc.Throttles, glyphThrottle, r.warn)
		add(sc.Faults, ui.GlyphFailed, r.failed)
		chunks = append(chunks, entry)
	}
	r.flow(piece{"services  ", r.muted}, chunks, piece{" · ", r.muted})
}
