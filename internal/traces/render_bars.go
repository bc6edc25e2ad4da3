package traces

import (
	"math"
	"strings"
)

// blank is the space left of the bar column.
func (r *renderer) blank() string { return strings.Repeat(" ", r.labelW+durW+2) }

// row writes one row: a label of prefix, body and marks (only the body is
// cut when the label is too long), a duration and a bar.
func (r *renderer) row(prefix string, body, marks []piece, dur string, bar []piece) {
	ps := make([]piece, 0, 4+len(body)+len(marks)+len(bar))
	// A deep tree keeps the right end of its prefix, next to the name.
	if limit := r.labelW / 2; width(prefix) > limit {
		rs := []rune(prefix)
		prefix = "…" + string(rs[len(rs)-limit+1:])
	}
	room := r.labelW - width(prefix)
	mw := 0
	for _, m := range marks {
		mw += width(m.text)
	}
	if mw > 0 {
		mw++
	}
	ps = append(ps, piece{prefix, r.muted})
	left := room - mw
	for _, p := range body {
		if left <= 0 {
			break
		}
		w := width(p.text)
		if w > left {
			p.text = truncate(p.text, left)
			w = left
		}
		ps = append(ps, p)
		left -= w
	}
	if mw > 0 {
		ps = append(ps, piece{" ", r.plain})
		ps = append(ps, marks...)
	}
	ps = append(ps, piece{strings.Repeat(" ", max(left, 0)+1) + padLeft(dur, durW) + " ", r.plain})
	if r.barW > 0 {
		ps = append(ps, bar...)
	}
	r.line(ps...)
}

// spanBar draws [start, end] with eighths of a cell at its right edge and a
// half cell at its left.
func (r *renderer) spanBar(start, end float64, p paint) []piece {
	s8 := int(math.Round(r.x(start) * 8))
	e8 := int(math.Round(r.x(end) * 8))
	if e8 <= s8 {
		e8 = s8 + 1
	}
	if max8 := r.barW * 8; e8 > max8 {
		e8, s8 = max8, min(s8, max8-1)
	}
	c0, c1 := s8/8, (e8+7)/8
	var b strings.Builder
	for c := c0; c < c1; c++ {
		lo, hi := max(s8, c*8)-c*8, min(e8, c*8+8)-c*8
		n := hi - lo
		switch {
		case n == 8:
			b.WriteString(glyphFull)
		case lo > 0 && hi == 8 && n >= 4:
			b.WriteString("▐")
		case lo > 0 && hi == 8:
			b.WriteString("▕")
		default:
			b.WriteString(leftBlocks[n])
		}
	}
	return []piece{{strings.Repeat(" ", c0), r.plain}, {b.String(), p}}
}

// markBar draws a zero-length span as one mark.
func (r *renderer) markBar(t float64, p paint) []piece {
	c := min(int(r.x(t)), r.barW-1)
	return []piece{{strings.Repeat(" ", c), r.plain}, {glyphZero, p}}
}

// openBar draws an unfinished span as a dashed bar up to the clock.
func (r *renderer) openBar(start float64, p paint) []piece {
	c0 := min(int(r.x(start)), r.barW-1)
	c1 := max(int(math.Ceil(r.x(r.openEnd))), c0+1)
	return []piece{{strings.Repeat(" ", c0), r.plain}, {strings.Repeat(glyphOpen, c1-c0-1) + glyphOpenEnd, p}}
}
