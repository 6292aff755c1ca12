package bench

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// CostCell is one strategy at one size: its distributions in bps.
type CostCell struct {
	Strategy string  `json:"strategy"`
	Size     string  `json:"size"`
	IS       Summary `json:"is_bps"`
	Cost     Summary `json:"cost_bps"`
	Timing   Summary `json:"timing_bps"`
	Fees     Summary `json:"fees_bps"`
	// Total is IS + fees; TotalAdj the same less the price path's own move over the horizon (Execution.Path).
	Total      Summary    `json:"total_cost_bps"`
	TotalAdj   Summary    `json:"total_cost_adjusted_bps"`
	MakerShare Summary    `json:"maker_share"`
	Markouts   [3]Summary `json:"markouts_bps"` // 1 s, 10 s, 60 s
	Cleanup    Summary    `json:"cleanup_qty"`
}

// Chart geometry, in pixels.
const (
	chartWidth   = 1200
	chartHeight  = 600
	chartMargin  = 20  // outer margin
	axisLabelW   = 56  // room left of a plot for tick labels
	legendRowH   = 18  // height of one legend row
	sizeLabelH   = 28  // room below a plot for size labels
	panelTitleH  = 22  // room above a plot for its title
	panelGap     = 40  // horizontal gap between the panels
	whiskerCapPx = 3   // half width of a whisker's caps, at most
	lineHeight   = 13  // basicfont.Face7x13's height
	glyphWidth   = 7   // basicfont.Face7x13's advance
	maxBarWidth  = 60  // widest bar drawn
	groupFill    = 0.8 // share of a size group's width taken by its bars
)

// Chart colors, as 0xRRGGBB (see chartRGB).
const (
	chartBackground = 0xffffff
	chartInk        = 0x141414 // text, axes, zero line
	chartGrid       = 0xe1e1e1 // tick grid lines
	chartWhisker    = 0x000000
)

// chartRGB returns the opaque color 0xRRGGBB.
func chartRGB(hex uint32) color.RGBA {
	return color.RGBA{uint8(hex >> 16), uint8(hex >> 8), uint8(hex), 255}
}

// chartPalette returns the color of the i-th strategy: a fixed palette of distinct colors, then generated hues.
func chartPalette(i int) color.RGBA {
	palette := [...]uint32{
		0x1f77b4, // blue
		0xff7f0e, // orange
		0x2ca02c, // green
		0xd62728, // red
		0x9467bd, // purple
		0x8c564b, // brown
		0xe377c2, // pink
		0x7f7f7f, // grey
		0xbcbd22, // olive
		0x17becf, // cyan
	}
	if i < len(palette) {
		return chartRGB(palette[i])
	}
	// Golden-angle hues, mid saturation and lightness.
	h := math.Mod(float64(i)*137.508, 360)
	return chartHSL(h, 0.55, 0.5)
}

// chartHSL converts a hue in degrees, saturation and lightness in [0, 1] to an opaque color.
func chartHSL(h, s, l float64) color.RGBA {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	u := func(v float64) uint8 { return uint8(math.Round((v + m) * 255)) }
	return color.RGBA{u(r), u(g), u(b), 255}
}

// CostChart draws a 1200×600 PNG of cells to w: two panels side by side, each with one group of bars per size
// (sizes in the given order) and one bar per strategy (strategies in the given order, a distinct color each,
// with a legend). The left panel, "trading cost (bps vs arrival mid, timing removed)", has bars at Cost.Median
// with a Cost.P10–Cost.P90 whisker; the right panel, "implementation shortfall (bps vs arrival mid)", bars at
// IS.Median with IS.P10–IS.P90 whiskers. title is drawn on top. Each panel has its own y axis with a few
// labelled ticks and a zero line; negative values are drawn below zero. Missing cells (a strategy absent at a
// size), cells of strategies or sizes not listed, and NaN or infinite values are skipped; of duplicate cells the
// last wins. It returns an error if strategies, sizes or cells is empty, or if writing fails.
func CostChart(w io.Writer, title string, strategies, sizes []string, cells []CostCell) error {
	switch {
	case len(strategies) == 0:
		return errors.New("cost chart: no strategies")
	case len(sizes) == 0:
		return errors.New("cost chart: no sizes")
	case len(cells) == 0:
		return errors.New("cost chart: no cells")
	}
	type key struct{ strategy, size string }
	byKey := make(map[key]CostCell, len(cells))
	for _, c := range cells {
		byKey[key{c.Strategy, c.Size}] = c
	}
	lookup := func(si, zi int) (CostCell, bool) {
		c, ok := byKey[key{strategies[si], sizes[zi]}]
		return c, ok
	}

	img := image.NewRGBA(image.Rect(0, 0, chartWidth, chartHeight))
	chartFill(img, img.Bounds(), chartRGB(chartBackground))

	y := chartMargin + lineHeight
	chartText(img, (chartWidth-chartTextWidth(title))/2, y, title, chartRGB(chartInk))
	y = chartLegend(img, chartMargin, y+10, chartWidth-2*chartMargin, strategies)

	panelW := (chartWidth - 2*chartMargin - panelGap) / 2
	plotTop := y + panelTitleH
	plotBottom := chartHeight - chartMargin - sizeLabelH
	panels := []struct {
		title string
		pick  func(CostCell) Summary
	}{
		{"trading cost (bps vs arrival mid, timing removed)", func(c CostCell) Summary { return c.Cost }},
		{"total cost: shortfall + fees, path removed (bps)", func(c CostCell) Summary { return c.TotalAdj }},
	}
	for pi, p := range panels {
		left := chartMargin + pi*(panelW+panelGap)
		plot := image.Rect(left+axisLabelW, plotTop, left+panelW, plotBottom)
		chartText(img, plot.Min.X+(plot.Dx()-chartTextWidth(p.title))/2, plotTop-8, p.title, chartRGB(chartInk))
		values := make([][]Summary, len(sizes)) // [size][strategy], all NaN when missing
		for zi := range sizes {
			values[zi] = make([]Summary, len(strategies))
			for si := range strategies {
				if c, ok := lookup(si, zi); ok {
					values[zi][si] = p.pick(c)
				} else {
					values[zi][si] = Summary{Median: math.NaN(), P10: math.NaN(), P90: math.NaN()}
				}
			}
		}
		chartBarPanel(img, plot, sizes, values)
	}

	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("cost chart: encode png: %w", err)
	}
	return nil
}

// chartLegend draws one swatch and name per strategy from (x, y), wrapping within width, and returns the y below
// it.
func chartLegend(img *image.RGBA, x, y, width int, strategies []string) int {
	const swatch, gap = 12, 18
	cx, row := x, 0
	for i, s := range strategies {
		itemW := swatch + 5 + chartTextWidth(s)
		if cx > x && cx+itemW > x+width {
			cx, row = x, row+1
		}
		top := y + row*legendRowH
		chartFill(img, image.Rect(cx, top, cx+swatch, top+swatch), chartPalette(i))
		chartText(img, cx+swatch+5, top+swatch-1, s, chartRGB(chartInk))
		cx += itemW + gap
	}
	return y + (row+1)*legendRowH
}

// chartBarPanel draws the y axis, ticks, zero line, bars (at Median) and whiskers (P10–P90) of values, indexed
// [size][strategy], into plot, with the size labels below it.
func chartBarPanel(img *image.RGBA, plot image.Rectangle, sizes []string, values [][]Summary) {
	lo, hi := 0.0, 0.0
	for _, row := range values {
		for _, s := range row {
			for _, v := range []float64{s.Median, s.P10, s.P90} {
				if chartFinite(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	ticks := chartNiceTicks(lo, hi, 5)
	lo, hi = math.Min(lo, ticks[0]), math.Max(hi, ticks[len(ticks)-1])
	yOf := func(v float64) int {
		return plot.Max.Y - int(math.Round((v-lo)/(hi-lo)*float64(plot.Dy())))
	}

	decimals := 0
	if len(ticks) > 1 {
		decimals = max(0, -int(math.Floor(math.Log10(ticks[1]-ticks[0])+1e-9)))
	}
	for _, t := range ticks {
		ty := yOf(t)
		chartHLine(img, plot.Min.X, plot.Max.X, ty, chartRGB(chartGrid))
		chartHLine(img, plot.Min.X-4, plot.Min.X, ty, chartRGB(chartInk))
		label := fmt.Sprintf("%.*f", decimals, t)
		chartText(img, plot.Min.X-6-chartTextWidth(label), ty+4, label, chartRGB(chartInk))
	}
	chartVLine(img, plot.Min.X, plot.Min.Y, plot.Max.Y, chartRGB(chartInk))

	groupW := float64(plot.Dx()) / float64(len(sizes))
	nStrat := len(values[0])
	barW := min(maxBarWidth, max(1, int(groupW*groupFill/float64(nStrat))))
	zero := yOf(0)
	for zi, size := range sizes {
		center := plot.Min.X + int(math.Round(groupW*(float64(zi)+0.5)))
		x0 := center - barW*nStrat/2
		for si, s := range values[zi] {
			bx := x0 + si*barW
			inner := image.Rect(bx+1, 0, bx+barW-1, 0) // a pixel of gap between bars when there is room
			if barW < 4 {
				inner = image.Rect(bx, 0, bx+barW, 0)
			}
			if chartFinite(s.Median) {
				// From the value to the zero line, not covering it, so that equal magnitudes get equal heights.
				vy := yOf(s.Median)
				if vy <= zero {
					inner.Min.Y, inner.Max.Y = vy, zero
				} else {
					inner.Min.Y, inner.Max.Y = zero+1, vy+1
				}
				if inner.Dy() == 0 {
					inner.Min.Y-- // a hairline above the zero line for a zero median
				}
				chartFill(img, inner, chartPalette(si))
			}
			if chartFinite(s.P10) && chartFinite(s.P90) {
				mid := (inner.Min.X + inner.Max.X - 1) / 2
				y10, y90 := yOf(s.P10), yOf(s.P90)
				chartVLine(img, mid, min(y10, y90), max(y10, y90), chartRGB(chartWhisker))
				capW := min(whiskerCapPx, inner.Dx()/3)
				chartHLine(img, mid-capW, mid+capW, y10, chartRGB(chartWhisker))
				chartHLine(img, mid-capW, mid+capW, y90, chartRGB(chartWhisker))
			}
		}
		chartText(img, center-chartTextWidth(size)/2, plot.Max.Y+lineHeight+6, size, chartRGB(chartInk))
	}
	chartHLine(img, plot.Min.X, plot.Max.X, zero, chartRGB(chartInk))
}

// chartNiceTicks returns about n evenly spaced round values (steps of 1, 2 or 5 times a power of ten) covering
// [lo, hi], ascending.
func chartNiceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		lo, hi = lo-1, hi+1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	first := math.Floor(lo/step) * step
	last := math.Ceil(hi/step) * step
	var ticks []float64
	for i := 0; ; i++ {
		t := first + float64(i)*step
		if t > last+step/2 {
			break
		}
		if math.Abs(t) < step*1e-9 {
			t = 0
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// chartFinite reports whether v is neither NaN nor infinite.
func chartFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// chartFill fills r with c.
func chartFill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// chartHLine draws a horizontal line from x0 to x1 inclusive at y.
func chartHLine(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	chartFill(img, image.Rect(min(x0, x1), y, max(x0, x1)+1, y+1), c)
}

// chartVLine draws a vertical line from y0 to y1 inclusive at x.
func chartVLine(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	chartFill(img, image.Rect(x, min(y0, y1), x+1, max(y0, y1)+1), c)
}

// chartTextWidth is the width in pixels of s in basicfont.Face7x13.
func chartTextWidth(s string) int { return len([]rune(s)) * glyphWidth }

// chartText draws s with its baseline starting at (x, y).
func chartText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(c),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y),
	}
	d.DrawString(s)
}
