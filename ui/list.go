package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The list: one component for rules, repositories, images, findings and the journal.
// Its columns are named, its rows carry the id of what they show, and the cursor is
// held by that id, so that a sort, a filter or a new scan leaves it on the same thing
// (or, when that thing is gone, near where it was). Its first line says how many rows
// there are, how many a filter shows, and by what they are sorted.

// column is one column of a list.
type column struct {
	name  string // what rows name it by
	title string
	width int  // the most it takes
	keep  bool // never cut (an id): it has its width whatever the terminal's
	// path cells (repositories, targets) lose their middle when cut, not their
	// end: "docker-hub/…/nginx:latest", so that rows of one prefix differ.
	path bool
	// hideBelow drops the column from a list narrower than that: the detail
	// pane shows what it holds.
	hideBelow int
	// quantity columns sort by the row's number, largest first.
	quantity bool
}

// row is one row: its id, its cells by column name, the numbers its quantity
// columns sort by, and what it shows.
type row struct {
	id    string
	cells map[string]string
	nums  map[string]float64
	ref   any
	// group keeps rows of different kinds apart whatever the sort (a fleet's targets,
	// then its cross-account findings): rows sort within their group.
	group int
	// shorten, when set, fits a cell to a width the list cuts it to (else its end goes).
	shorten func(col, cell string, width int) string
}

type list struct {
	c     *common
	noun  string // "rules", "findings"
	empty string // what to say when there is no row at all
	cols  []column
	build func() []row
	// ownData lists need no snapshot (the journal).
	ownData bool
	// more adds to the count line (what was not checked, on the findings).
	more func() string
	// order says what the rows' natural order is (no column sorted), for S and s.
	order string

	built  int   // the data version the rows were built from; -1: never
	rows   []row // in their natural order
	shown  []int // the rows drawn, sorted and filtered
	sortBy string
	desc   bool
	filter string
	cursor string // the id of the selected row

	table         table.Model
	width, height int
}

func newList(c *common, noun, empty string, cols []column, build func() []row) *list {
	l := &list{c: c, noun: noun, empty: empty, cols: cols, build: build, built: -1}
	l.table = table.New(table.WithFocused(true), table.WithStyles(c.st.table), table.WithKeyMap(c.keys.tableKeys()))
	return l
}

// sync rebuilds the rows when the data changed since they were built.
func (l *list) sync() {
	if l.built == l.c.version {
		return
	}
	l.built = l.c.version
	l.rows = nil
	if l.c.snap != nil || l.ownData {
		l.rows = l.build()
	}
	l.arrange()
}

func (l *list) SetSize(w, h int) {
	l.width, l.height = w, h
	l.table.SetHeight(max(2, h-1))
	l.built = -1
	l.sync()
	l.reveal()
}

// reveal scrolls the table so that the cursor's row is in view: the table keeps its
// scroll offset through a resize, which can leave the row above or below a smaller
// window. The table has no setter for the offset; from the top, a move down to the
// row scrolls just far enough.
func (l *list) reveal() {
	at := l.table.Cursor()
	l.table.GotoTop()
	l.table.GotoTop() // the second settles the offset the first computed from the old window
	l.table.MoveDown(at)
}

// arrange sorts and filters the rows, sizes the columns, and puts the cursor back
// on the row it was on.
func (l *list) arrange() {
	idx := make([]int, 0, len(l.rows))
	var rank []int8 // by row: a filter's matches, the closest first (see matchRank)
	if l.filter != "" {
		rank = make([]int8, len(l.rows))
	}
	pattern := strings.ToLower(l.filter)
	var looser [2][]int // the matches ranked 1 and 2, after idx's 0s: in order without a sort
	grouped := false    // then a sort puts the groups back together
	for i, r := range l.rows {
		grouped = grouped || r.group != 0
		if l.filter == "" {
			idx = append(idx, i)
		} else if m := matchRank(pattern, strings.ToLower(l.rowText(r))); m == 0 {
			idx = append(idx, i)
		} else if m > 0 {
			looser[m-1], rank[i] = append(looser[m-1], i), int8(m)
		}
	}
	idx = append(append(idx, looser[0]...), looser[1]...)
	col := l.column(l.sortBy)
	if col != nil || grouped && rank != nil {
		slices.SortStableFunc(idx, func(a, b int) int {
			if g := cmp.Compare(l.rows[a].group, l.rows[b].group); g != 0 {
				return g
			}
			if rank != nil {
				if c := cmp.Compare(rank[a], rank[b]); c != 0 {
					return c
				}
			}
			if col == nil {
				return 0
			}
			if l.desc {
				a, b = b, a
			}
			if col.quantity {
				return cmp.Compare(l.rows[a].nums[col.name], l.rows[b].nums[col.name])
			}
			return strings.Compare(strings.ToLower(l.rows[a].cells[col.name]), strings.ToLower(l.rows[b].cells[col.name]))
		})
	}
	l.shown = idx
	cols := l.fit()
	vis := l.visible()
	rows := make([]table.Row, len(idx))
	for i, j := range idx {
		r := make(table.Row, len(vis))
		for k, c := range vis {
			cell := l.rows[j].cells[c.name]
			switch sh := l.rows[j].shorten; {
			case sh != nil && cellWidth(cell) > cols[k].Width-1:
				cell = sh(c.name, cell, cols[k].Width-1) // after the cell's leading space
			case c.path:
				cell = pathCut(cell, cols[k].Width-1)
			}
			r[k] = " " + cell
		}
		rows[i] = r
	}
	l.table.SetRows(nil)
	l.table.SetColumns(cols)
	l.table.SetRows(rows)
	l.table.SetWidth(l.width)
	l.place()
}

// place moves the table's cursor to the selected row; when it is gone, to the row
// now where it was, and that row becomes the selected one.
func (l *list) place() {
	at := -1
	for i, j := range l.shown {
		if l.rows[j].id == l.cursor {
			at = i
			break
		}
	}
	if at < 0 {
		at = min(max(0, l.table.Cursor()), max(0, len(l.shown)-1))
	}
	l.table.SetCursor(at)
	l.remember()
}

// remember takes the id of the row under the table's cursor.
func (l *list) remember() {
	if c := l.table.Cursor(); c >= 0 && c < len(l.shown) {
		l.cursor = l.rows[l.shown[c]].id
	}
}

// selected is the row under the cursor, drawn and selected; nil when none is.
func (l *list) selected() *row {
	l.sync()
	c := l.table.Cursor()
	if c < 0 || c >= len(l.shown) {
		return nil
	}
	return &l.rows[l.shown[c]]
}

func (l *list) column(name string) *column {
	for _, c := range l.visible() {
		if c.name == name {
			return &c
		}
	}
	return nil
}

// visible are the columns the list's width has room for.
func (l *list) visible() []column {
	out := make([]column, 0, len(l.cols))
	for _, c := range l.cols {
		if l.width >= c.hideBelow {
			out = append(out, c)
		}
	}
	return out
}

func (l *list) filterValue() string { return l.filter }

// setFilter filters the rows; a new filter puts the cursor on its closest match (the
// first row), so that a finding's id typed in the filter is the one selected.
func (l *list) setFilter(s string) {
	changed := s != l.filter
	l.filter = s
	l.sync()
	l.arrange()
	if changed && s != "" && len(l.shown) > 0 && l.table.Cursor() != 0 {
		l.cursor = l.rows[l.shown[0]].id
		l.place()
		l.reveal()
	}
}

// Update moves the cursor, sorts, and takes the mouse.
func (l *list) Update(msg tea.Msg) tea.Cmd {
	l.sync()
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, l.c.keys.Sort):
			l.nextSort()
			return nil
		case key.Matches(msg, l.c.keys.Reverse):
			if l.sortBy == "" {
				// Nothing to reverse: say what the order is, and how to choose one.
				l.c.nav.note("natural order: " + l.naturalOrder() + " · s sorts by a column")
				return nil
			}
			l.desc = !l.desc
			l.arrange()
			return nil
		}
		var cmd tea.Cmd
		l.table, cmd = l.table.Update(msg)
		l.remember()
		return cmd
	case tea.MouseWheelMsg:
		switch msg.Mouse().Button {
		case tea.MouseWheelUp:
			l.table.MoveUp(3)
		case tea.MouseWheelDown:
			l.table.MoveDown(3)
		}
		l.remember()
	}
	return nil
}

// clickRow selects the row drawn on body line y; it reports whether that row was
// selected already (a second click goes in).
func (l *list) clickRow(y int) (again, ok bool) {
	l.sync()
	lines := strings.Split(l.table.View(), "\n")
	selected := -1
	for i, line := range lines {
		if strings.Contains(line, "7m") { // the selected row is drawn in reverse video
			selected = i
			break
		}
	}
	clicked := y - 1 // under the list's count line
	if selected < 0 || clicked < 1 || clicked >= len(lines) {
		return false, false
	}
	if clicked == selected {
		return true, true
	}
	l.table.SetCursor(max(0, l.table.Cursor()+clicked-selected))
	l.remember()
	return false, true
}

// nextSort orders the list by the next column (after the last: the natural
// order again); quantities start largest first, text from A.
func (l *list) nextSort() {
	vis, next := l.visible(), 0
	for i, c := range vis {
		if c.name == l.sortBy {
			next = i + 1
		}
	}
	if next >= len(vis) {
		l.sortBy, l.desc = "", false
		l.c.nav.note("back to the natural order: " + l.naturalOrder())
	} else {
		l.sortBy, l.desc = vis[next].name, vis[next].quantity
	}
	l.arrange()
}

// naturalOrder is how the rows come when no column sorts them.
func (l *list) naturalOrder() string {
	if l.order == "" {
		return l.noun + " in the order the account lists them"
	}
	return l.order
}

// View is the count line, then the table.
func (l *list) View() string {
	l.sync()
	if l.c.snap == nil && !l.ownData {
		return l.c.st.dim.Render("reading the account…")
	}
	head := fmt.Sprintf("%d %s", len(l.rows), l.noun)
	if l.filter != "" {
		head = fmt.Sprintf("%d of %d %s match the filter %q (/ changes it, esc clears it)", len(l.shown), len(l.rows), l.noun, l.filter)
	}
	if c := l.column(l.sortBy); c != nil {
		head += " · sorted by " + c.title + " (s next, S reverse)"
	}
	if l.more != nil {
		head += l.more()
	}
	out := truncate(l.c.st.dim.Render(head), l.width) + "\n"
	switch {
	case len(l.rows) == 0:
		return out + l.c.st.dim.Render(wrapText(l.empty, l.width))
	case len(l.shown) == 0:
		return out + l.c.st.dim.Render("nothing matches the filter")
	}
	return out + l.table.View()
}

func (l *list) ShortHelp() []key.Binding {
	k := l.c.keys
	return []key.Binding{k.Enter, k.Back, k.Filter, k.Sort, k.Command}
}

func (l *list) FullHelp() [][]key.Binding {
	k := l.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Filter, k.Sort, k.Reverse}}
}

func (l *list) Capturing() bool { return false }

// fit sizes the columns to the rows they show. Each column takes what its longest
// cell needs, up to its declared width, so a short column gives its room to a long
// one; room left over goes to the columns still cut short (the one cut most first),
// then to the last column. On a terminal too narrow for that, the widest columns
// that may be cut shrink first. A sorted column's title carries the direction.
func (l *list) fit() []table.Column {
	vis := l.visible()
	n := len(vis)
	need := make([]int, n)
	out := make([]table.Column, n)
	for i, c := range vis {
		out[i].Title = " " + c.title
		if c.name == l.sortBy {
			out[i].Title += map[bool]string{false: " ▲", true: " ▼"}[l.desc]
		}
		need[i] = max(1, cellWidth(out[i].Title)-1)
	}
	for _, j := range l.shown {
		for i, c := range vis {
			need[i] = max(need[i], cellWidth(l.rows[j].cells[c.name]))
		}
	}
	total := 0
	for i, c := range vis {
		w := min(c.width, need[i])
		if c.keep {
			w = need[i]
		}
		out[i].Width = w + 2
		total += out[i].Width
	}
	for total < l.width {
		short := -1
		for i := range out {
			if gap := need[i] + 2 - out[i].Width; gap > 0 && (short < 0 || gap > need[short]+2-out[short].Width) {
				short = i
			}
		}
		if short < 0 {
			out[n-1].Width += l.width - total
			break
		}
		out[short].Width++
		total++
	}
	for total > l.width {
		widest := -1
		for i, c := range out {
			if !vis[i].keep && (widest < 0 || c.Width > out[widest].Width) {
				widest = i
			}
		}
		if widest < 0 || out[widest].Width <= 6 {
			break
		}
		out[widest].Width--
		total--
	}
	// A sorted column too narrow for its title shortens the title, not the marker:
	// the marker is what says the rows are sorted, and which way.
	for i, c := range vis {
		if c.name == l.sortBy && cellWidth(out[i].Title) > out[i].Width {
			marker := map[bool]string{false: " ▲", true: " ▼"}[l.desc]
			out[i].Title = " " + ansi.Truncate(c.title, max(0, out[i].Width-1-cellWidth(marker)), "…") + marker
		}
	}
	return out
}

// rowText is what a filter searches: the row's cells, in the columns' order.
func (l *list) rowText(r row) string {
	var b strings.Builder
	for _, c := range l.cols {
		b.WriteString(r.cells[c.name])
		b.WriteByte(' ')
	}
	return b.String()
}

// matchRank is how closely a row's text matches a filter, for the order of the
// matches: 0 the filter as a whole word (a finding's id, a check's name), 1 inside a
// word, 2 its letters in order within one word (a typo, a skipped letter), -1 no match.
// Letters scattered over the whole row do not match a one-word filter: "stale" would
// match most rows of a list.
func matchRank(pattern, s string) int {
	best := -1
	for from := 0; ; {
		i := strings.Index(s[from:], pattern)
		if i < 0 {
			break
		}
		i += from
		end := i + len(pattern)
		if (i == 0 || !wordByte(s[i-1])) && (end == len(s) || !wordByte(s[end])) {
			return 0
		}
		best, from = 1, i+1
	}
	if best >= 0 {
		return best
	}
	if strings.Contains(pattern, " ") { // words: their letters in order over the row
		if fuzzyMatch(pattern, s) {
			return 2
		}
		return -1
	}
	for len(s) > 0 {
		word, rest, _ := strings.Cut(s, " ")
		if fuzzyMatch(pattern, word) {
			return 2
		}
		s = rest
	}
	return -1
}

// wordByte is a byte that continues a word: a letter or a digit (or part of one
// written in UTF-8); '-', '/', ':' and spaces end one, so "stale" is a word of "stale-tag".
func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

// fuzzyMatch reports whether the pattern's letters are in s, in order.
func fuzzyMatch(pattern, s string) bool {
	for _, r := range pattern {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(string(r)):]
	}
	return true
}

// cellWidth is the terminal width of a cell; most are ASCII, and a list can
// hold a hundred thousand rows.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return lipgloss.Width(s)
		}
	}
	return len(s)
}
