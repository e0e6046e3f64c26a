import MMOClient
import MMOProtocol

/// Drawing: every screen as plain lines that fit `width` x `height`.
extension ClientScreenModel {
    /// The smallest screen the full layout needs; smaller terminals get a notice instead.
    public static let minimumSize = (width: 24, height: 6)

    /// The frame for a terminal of `width` columns and `height` rows.
    public func render(width: Int, height: Int) -> ScreenFrame {
        var out = FrameBuilder(width: width, height: height)
        guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
            out.addWrapped("Window too small: make it at least \(Self.minimumSize.width)x\(Self.minimumSize.height).", .alert)
            return out.frame
        }
        switch screen {
        case .connecting, .loggingIn, .exiting: renderProgress(&out)
        case .characterSelect, .enteringWorld: renderSelect(&out)
        case .inWorld, .leavingWorld: renderWorld(&out)
        case .ended: renderEnding(&out)
        }
        return out.frame
    }

    // MARK: connecting, ending

    private func renderProgress(_ out: inout FrameBuilder) {
        out.add(" mmo", .title)
        out.add("")
        switch screen {
        case .connecting: out.add("  Connecting to \(server)...")
        case .loggingIn:
            out.add("  Connected to \(server).")
            out.add("  Logging in...")
        default: out.add("  Logging out...")
        }
        out.fill(leaving: 1)
        out.add("Ctrl-C quits", .dim)
    }

    private func renderEnding(_ out: inout FrameBuilder) {
        let ending = self.ending ?? Ending(title: "Session ended", message: "", code: ExitStatus.failure)
        out.add(" mmo - \(ending.title)", .title)
        out.add("")
        out.addWrapped("  " + ending.message, .alert, indent: "  ")
        out.fill(leaving: 1)
        out.add("Press any key to exit.", .dim)
    }

    // MARK: character selection

    private func renderSelect(_ out: inout FrameBuilder) {
        let who = account.map { " - signed in as \(TextLayout.sanitize($0.displayName))" } ?? ""
        out.add(" mmo\(who)", .title)
        out.add("")
        out.add("Your characters (\(characters.count) of \(maxCharacters) slots)", .header)

        // Bottom area: form lines, status, hints; the list gets what is left.
        var bottom: [(String, ScreenFrame.Style)] = []
        var cursorLine: (index: Int, column: Int)?
        switch selectMode {
        case .creating(let form):
            bottom.append(("New character" + formSummary(form), .header))
        case .confirmingDelete(let character):
            bottom.append(("Delete \(character.name) (\(Messages.className(character.classId)), level \(character.level))? This cannot be undone.", .alert))
        case .waiting(let what):
            bottom.append((what, .plain))
        case .browsing:
            break
        }
        if screen == .enteringWorld, let character = entering {
            bottom.append(("Entering the world as \(character.name)...", .plain))
        }
        if let editor {
            let (line, column) = editorLine(editor, width: out.width)
            bottom.append((editor.prompt, .plain))
            cursorLine = (bottom.count, column)
            bottom.append((line, .plain))
        }
        bottom.append((status?.text ?? "", status?.style ?? .plain))
        bottom.append((selectHints(width: out.width), .dim))

        let listRows = max(1, out.remaining - bottom.count - 1)
        if characters.isEmpty {
            out.add(selectMode == .browsing ? "  You have no characters yet: press c to create one." : "")
        } else {
            out.add(Self.characterRow(index: nil, name: "Name", className: "Class", level: "Level", place: "Where", width: out.width), .dim)
            // Scroll so the selected row stays visible.
            let visible = max(1, listRows - 1)
            let first = min(max(0, selectedIndex - visible + 1), max(0, characters.count - visible))
            for index in first..<min(characters.count, first + visible) {
                let character = characters[index]
                let place = "\(Messages.zoneName(character.zoneId)) \(TextLayout.position(character.x, character.y))"
                let row = Self.characterRow(index: index + 1, name: character.name, className: Messages.className(character.classId),
                                            level: "\(character.level)", place: place, width: out.width)
                let selected = index == selectedIndex && selectMode == .browsing && screen == .characterSelect
                out.add((index == selectedIndex ? ">" : " ") + row.dropFirst(), selected ? .selected : .plain)
            }
        }
        out.fill(leaving: bottom.count)
        let base = out.count
        for (text, style) in bottom { out.add(text, style) }
        if let cursorLine { out.setCursor(row: base + cursorLine.index, column: cursorLine.column) }
    }

    static func characterRow(index: Int?, name: String, className: String, level: String, place: String, width: Int) -> String {
        let number = index.map { String($0) } ?? "#"
        var row = "  " + String(repeating: " ", count: max(0, 2 - number.count)) + number + "  "
        row += TextLayout.pad(name, to: 16) + " " + TextLayout.pad(className, to: 8) + " "
        row += String(repeating: " ", count: max(0, 5 - level.count)) + level + "  " + place
        return row
    }

    private func formSummary(_ form: CreateForm) -> String {
        var parts: [String] = []
        if let name = form.name, form.step != .name { parts.append(TextLayout.sanitize(name)) }
        if let id = form.classId, form.step != .characterClass { parts.append(Messages.className(id)) }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")
    }

    private func selectHints(width: Int) -> String {
        if editor != nil { return "Enter confirms, Esc cancels" }
        switch selectMode {
        case .browsing:
            if characters.isEmpty { return "c create  r refresh  / command  q quit" }
            return width >= 80 ? "Up/Down select  Enter play  c create  d delete  r refresh  / command  q quit"
                : "Enter play  c new  d delete  q quit"
        default:
            return "Ctrl-C quits"
        }
    }

    /// The editor's text as one line that fits (its end kept visible), and the cursor column.
    private func editorLine(_ editor: LineEditor, width: Int) -> (String, Int) {
        let marker = "> "
        let shown = TextLayout.tail(TextLayout.sanitize(editor.text), fitting: max(1, width - marker.count - 1))
        let line = marker + shown
        return (line, TextLayout.width(of: line))
    }

    // MARK: world

    private func renderWorld(_ out: inout FrameBuilder) {
        guard let state = world else { return }
        let me = state.view.selfPosition ?? (state.entry.x, state.entry.y)
        let character = state.character
        // Position before zone: on a narrow screen the end is cut, and where you are matters most.
        out.add(" \(character.name) (\(Messages.className(character.classId)) \(character.level)) - \(TextLayout.position(me.x, me.y)) - \(Messages.zoneName(state.entry.zoneId))", .title)

        // Fixed rows: title, nearby header, chat header, status, input/hints.
        let free = out.remaining - 4
        let others = sortedOthers()
        let wantNearby = max(1, others.count)
        var nearbyRows = min(wantNearby, max(1, free * 2 / 5))
        let showMap = out.width >= 84 && free >= 10
        if showMap { nearbyRows = max(nearbyRows, min(free / 2, 15)) }
        let chatRows = max(0, free - nearbyRows)

        // Nearby players, with the map to their right when there is room.
        let mapWidth = showMap ? min(41, (out.width / 3) | 1) : 0
        let listWidth = out.width - (showMap ? mapWidth + 2 : 0)
        let header = others.isEmpty ? "Nearby players: nobody in sight" : "Nearby players (\(others.count))"
        out.add(showMap ? TextLayout.pad(header, to: listWidth) + "  " + "Map: @ you, 1 col = \(TextLayout.format(mapScale(mapWidth))) units" : header, .header)
        var listLines: [String] = []
        for (index, other) in others.enumerated() {
            if listLines.count == nearbyRows - 1 && others.count - index > 1 {
                listLines.append("  ... and \(others.count - index) more")
                break
            }
            listLines.append(nearbyRow(other, me: me, width: listWidth))
        }
        let mapLines = showMap ? radar(others: others, me: me, width: mapWidth, height: nearbyRows) : []
        for row in 0..<nearbyRows {
            let left = row < listLines.count ? listLines[row] : ""
            if showMap {
                out.add(TextLayout.pad(left, to: listWidth) + "  " + (row < mapLines.count ? mapLines[row] : ""))
            } else {
                out.add(left)
            }
        }

        // Chat log: the most recent lines that fit, long ones wrapped.
        out.add("Chat", .header)
        var wrapped: [(String, ScreenFrame.Style)] = []
        for line in state.log.reversed() {
            let style: ScreenFrame.Style = line.kind == .error ? .alert : line.kind == .system ? .dim : .plain
            let pieces = TextLayout.wrap(line.text, to: out.width, indent: "    ")
            for piece in pieces.reversed() { wrapped.append((piece, style)) }
            if wrapped.count >= chatRows { break }
        }
        let chatShown = wrapped.prefix(chatRows).reversed()
        for (text, style) in chatShown { out.add(text, style) }
        out.fill(leaving: 2)

        // Status and input.
        out.add(status?.text ?? worldSummary(state, others: others.count), status?.style ?? .dim)
        if let editor {
            let (line, column) = editorLine(editor, width: out.width)
            let row = out.count
            out.add(line)
            out.setCursor(row: row, column: column)
        } else {
            out.add(out.width >= 70 ? "WASD/arrows/hjkl move  Enter chat  / command  /leave  /quit  ? help"
                                    : "WASD move  Enter chat  /help", .dim)
        }
    }

    private func worldSummary(_ state: WorldState, others: Int) -> String {
        var parts = ["\(server)"]
        if let goal = state.walkTarget { parts.append("walking to \(TextLayout.position(goal.x, goal.y))") }
        parts.append("\(others) nearby")
        parts.append("moves \(state.movesSent)")
        if state.corrections > 0 { parts.append("corrections \(state.corrections)") }
        if screen == .leavingWorld { parts.append("leaving...") }
        return parts.joined(separator: " | ")
    }

    private func nearbyRow(_ other: WorldView.Entity, me: (x: Float, y: Float), width: Int) -> String {
        let name = TextLayout.pad(displayName(other), to: 16)
        let what = TextLayout.pad("\(Messages.className(other.classId)) \(other.level)", to: 11)
        let position = TextLayout.pad(TextLayout.position(other.x, other.y), to: 16)
        let distance = TextLayout.format(Self.distance(me, (other.x, other.y)))
        return "  \(name) \(what) \(position) \(String(repeating: " ", count: max(0, 6 - distance.count)))\(distance) \(compass(to: other.x, other.y))"
    }

    /// Units per map column: the view covers about 50 units (the server's default interest
    /// radius) each way.
    private func mapScale(_ width: Int) -> Float {
        50 / Float(max(1, (width - 2) / 2))
    }

    /// A top-down map centred on you: "@" is you, others show their initial ("*" when several
    /// share a cell). A row spans twice the units of a column, as terminal cells are tall.
    func radar(others: [WorldView.Entity], me: (x: Float, y: Float), width: Int, height: Int) -> [String] {
        guard width >= 5, height >= 3 else { return [] }
        let inner = (width: width - 2, height: height - 2)
        var grid = Array(repeating: Array(repeating: Character("."), count: inner.width), count: inner.height)
        let scale = mapScale(width)
        let center = (column: inner.width / 2, row: inner.height / 2)
        func cell(_ x: Float, _ y: Float) -> (Int, Int)? {
            let column = center.column + Int(((x - me.x) / scale).rounded())
            let row = center.row + Int(((y - me.y) / (scale * 2)).rounded())
            guard (0..<inner.width).contains(column), (0..<inner.height).contains(row) else { return nil }
            return (row, column)
        }
        for other in others {
            guard let (row, column) = cell(other.x, other.y) else { continue }
            let initial = other.name.first.map { Character($0.uppercased()) } ?? "?"
            grid[row][column] = grid[row][column] == "." ? initial : "*"
        }
        grid[center.row][center.column] = "@"
        let border = "+" + String(repeating: "-", count: inner.width) + "+"
        return [border] + grid.map { "|" + String($0) + "|" } + [border]
    }
}
