package bench

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"testing"
)

// chartTestDecode draws cells with CostChart and decodes the PNG.
func chartTestDecode(t *testing.T, strategies, sizes []string, cells []CostCell) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := CostChart(&buf, "test chart", strategies, sizes, cells); err != nil {
		t.Fatalf("CostChart: %v", err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	return img
}

// chartTestColumns returns, for each x, how many pixels of img have exactly color c, and their min and max y.
func chartTestColumns(img image.Image, c color.RGBA) (count, minY, maxY map[int]int) {
	count, minY, maxY = map[int]int{}, map[int]int{}, map[int]int{}
	b := img.Bounds()
	for x := b.Min.X; x < b.Max.X; x++ {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) != c {
				continue
			}
			if count[x] == 0 || y < minY[x] {
				minY[x] = y
			}
			maxY[x] = max(maxY[x], y)
			count[x]++
		}
	}
	return count, minY, maxY
}

// chartTestTallest returns the largest per-column count of color c and that column's y span.
func chartTestTallest(img image.Image, c color.RGBA) (height, top, bottom int) {
	count, minY, maxY := chartTestColumns(img, c)
	for x, n := range count {
		if n > height {
			height, top, bottom = n, minY[x], maxY[x]
		}
	}
	return height, top, bottom
}

// chartTestFlat is a one-value summary without whiskers.
func chartTestFlat(v float64) Summary {
	return Summary{Median: v, P10: math.NaN(), P90: math.NaN(), Mean: v, N: 1}
}

func TestCostChartImage(t *testing.T) {
	cells := []CostCell{
		{Strategy: "small", Size: "1%", Cost: chartTestFlat(1), TotalAdj: chartTestFlat(1)},
		{Strategy: "big", Size: "1%", Cost: chartTestFlat(3), TotalAdj: chartTestFlat(3)},
	}
	img := chartTestDecode(t, []string{"small", "big"}, []string{"1%"}, cells)
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 600 {
		t.Fatalf("chart is %d×%d, want 1200×600", b.Dx(), b.Dy())
	}
	colors := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			colors[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(colors) < 4 {
		t.Errorf("chart has %d colors, want several", len(colors))
	}

	hSmall, topSmall, botSmall := chartTestTallest(img, chartPalette(0))
	hBig, topBig, botBig := chartTestTallest(img, chartPalette(1))
	if hSmall == 0 || hBig == 0 {
		t.Fatalf("bars not found: heights %d, %d", hSmall, hBig)
	}
	// Both bars stand on the zero line, the big one three times as tall (± rounding).
	if ratio := float64(hBig) / float64(hSmall); math.Abs(ratio-3) > 0.1 {
		t.Errorf("bar heights %d (median 3) and %d (median 1): ratio %.3f, want 3", hBig, hSmall, ratio)
	}
	if botSmall != botBig || topBig >= topSmall {
		t.Errorf("bars span y %d–%d (median 1) and %d–%d (median 3), want a common base and the big one higher",
			topSmall, botSmall, topBig, botBig)
	}
}

func TestCostChartNegativeAndWhiskers(t *testing.T) {
	whiskered := Summary{Median: 2, P10: 1, P90: 4}
	cells := []CostCell{
		{Strategy: "up", Size: "1%", Cost: whiskered, TotalAdj: whiskered},
		{Strategy: "down", Size: "1%", Cost: chartTestFlat(-2), TotalAdj: chartTestFlat(-2)},
		// Missing: "up" at 5%; NaN everywhere for "down" at 5%; not listed: "other".
		{Strategy: "down", Size: "5%", Cost: chartTestFlat(math.NaN()), TotalAdj: Summary{Median: math.NaN(), P10: math.NaN(), P90: math.NaN()}},
		{Strategy: "other", Size: "1%", Cost: chartTestFlat(100), TotalAdj: chartTestFlat(100)},
	}
	img := chartTestDecode(t, []string{"up", "down"}, []string{"1%", "5%"}, cells)
	hUp, topUp, botUp := chartTestTallest(img, chartPalette(0))
	hDown, topDown, _ := chartTestTallest(img, chartPalette(1))
	if hUp == 0 || hDown == 0 {
		t.Fatalf("bars not found: heights %d, %d", hUp, hDown)
	}
	// Equal magnitudes: equal heights, the negative bar starting below where the positive one ends.
	if d := hUp - hDown; d < -1 || d > 1 {
		t.Errorf("bar heights %d (+2) and %d (−2), want equal", hUp, hDown)
	}
	if topDown <= botUp {
		t.Errorf("negative bar top %d is not below the positive bar's base %d", topDown, botUp)
	}
	// "other" (median 100) is not drawn: the axis would then make the ±2 bars tiny.
	if hUp < 100 {
		t.Errorf("positive bar only %d px tall: an unlisted strategy seems to have set the scale", hUp)
	}
	// Each panel draws the whisker of "up" in a column between its bar's columns, from P90 = 4 (one bar height
	// above the bar's top) down to P10 = 1 (half-way down the bar).
	upCount, _, _ := chartTestColumns(img, chartPalette(0))
	wCount, wTop, wBottom := chartTestColumns(img, chartRGB(chartWhisker))
	whiskers := 0
	for x, top := range wTop {
		if wCount[x] < 3 || upCount[x-1] < hUp-2 || upCount[x+1] < hUp-2 { // not a cap; caps take a pixel off bars
			continue
		}
		whiskers++
		if wantTop := topUp - hUp; top < wantTop-2 || top > wantTop+2 {
			t.Errorf("whisker at x=%d tops at y=%d, want %d (P90)", x, top, wantTop)
		}
		if wantBottom := topUp + hUp/2; wBottom[x] < wantBottom-2 || wBottom[x] > wantBottom+2 {
			t.Errorf("whisker at x=%d ends at y=%d, want %d (P10)", x, wBottom[x], wantBottom)
		}
	}
	if whiskers != 2 {
		t.Errorf("found %d whiskers on the positive bars, want 2 (one per panel)", whiskers)
	}
}

// chartTestFailWriter fails every write.
type chartTestFailWriter struct{}

func (chartTestFailWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCostChartErrors(t *testing.T) {
	cells := []CostCell{{Strategy: "a", Size: "1%", Cost: chartTestFlat(1), TotalAdj: chartTestFlat(1)}}
	for name, f := range map[string]func() error{
		"no strategies": func() error { return CostChart(io.Discard, "t", nil, []string{"1%"}, cells) },
		"no sizes":      func() error { return CostChart(io.Discard, "t", []string{"a"}, nil, cells) },
		"no cells":      func() error { return CostChart(io.Discard, "t", []string{"a"}, []string{"1%"}, nil) },
		"write fails":   func() error { return CostChart(chartTestFailWriter{}, "t", []string{"a"}, []string{"1%"}, cells) },
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := CostChart(io.Discard, "t", []string{"a"}, []string{"1%"}, cells); err != nil {
		t.Errorf("valid chart: %v", err)
	}
}

func TestCostChartManyStrategies(t *testing.T) {
	// More strategies than palette colors and a long legend still draw, with distinct colors.
	var strategies []string
	var cells []CostCell
	seen := map[color.RGBA]bool{}
	for i := range 25 {
		s := "strategy-with-a-long-name-" + string(rune('a'+i))
		strategies = append(strategies, s)
		cells = append(cells, CostCell{Strategy: s, Size: "1%", Cost: chartTestFlat(float64(i - 5)), TotalAdj: chartTestFlat(float64(i))})
		seen[chartPalette(i)] = true
	}
	if len(seen) != 25 {
		t.Errorf("%d distinct colors for 25 strategies", len(seen))
	}
	chartTestDecode(t, strategies, []string{"1%", "10%"}, cells)
}
