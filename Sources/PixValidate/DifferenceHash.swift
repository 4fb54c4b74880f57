/// The 64-bit difference hash (dHash) used for near-duplicate detection.
///
/// The image is averaged into a 9 × 8 gray grid; bit `63 - (8·row + column)` is set when the cell
/// to the right is brighter than the cell itself (`grid[row][column + 1] > grid[row][column]`), so
/// the first row's first comparison is the most significant bit. Small Hamming distances mean
/// visually similar pictures; re-encoding (PNG ↔ JPEG) changes only a few bits.
public enum DifferenceHash {
    /// Columns of the grid the hash compares (one more than the bits per row).
    public static let gridWidth = 9
    /// Rows of the grid the hash compares.
    public static let gridHeight = 8

    /// The hash of a ``gridWidth`` × ``gridHeight`` gray grid in row-major order.
    /// - Precondition: `grid.count == 72`.
    public static func hash(grid: [UInt8]) -> UInt64 {
        precondition(grid.count == gridWidth * gridHeight, "a difference hash needs a 9×8 grid")
        var hash: UInt64 = 0
        for row in 0..<gridHeight {
            for column in 0..<(gridWidth - 1) {
                let index = row * gridWidth + column
                hash = hash << 1 | (grid[index + 1] > grid[index] ? 1 : 0)
            }
        }
        return hash
    }

    /// The hash of any gray image: it is first area-averaged into the 9 × 8 grid.
    /// - Parameters:
    ///   - gray: `width × height` gray samples, row-major.
    ///   - width: columns of `gray`.
    ///   - height: rows of `gray`.
    /// - Precondition: `width > 0`, `height > 0` and `gray.count == width * height`.
    public static func hash(gray: [UInt8], width: Int, height: Int) -> UInt64 {
        hash(grid: averageGrid(gray: gray, width: width, height: height))
    }

    /// Area-weighted averaging of a gray image into the 9 × 8 grid (the same averaging the decoders do).
    /// - Precondition: `width > 0`, `height > 0` and `gray.count == width * height`.
    public static func averageGrid(gray: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(width > 0 && height > 0 && gray.count == width * height, "gray must hold width × height samples")
        var sums = [Double](repeating: 0, count: gridWidth * gridHeight)
        // A source pixel spans `gridWidth` units horizontally, a cell spans `width` units (same vertically).
        func overlaps(_ index: Int, pixelSpan: Int, cellSpan: Int) -> [(cell: Int, weight: Int)] {
            var start = index * pixelSpan
            var remaining = pixelSpan
            var result: [(Int, Int)] = []
            while remaining > 0 {
                let cell = start / cellSpan
                let part = min(remaining, (cell + 1) * cellSpan - start)
                result.append((cell, part))
                start += part
                remaining -= part
            }
            return result
        }
        let columns = (0..<width).map { overlaps($0, pixelSpan: gridWidth, cellSpan: width) }
        for y in 0..<height {
            for (rowCell, rowWeight) in overlaps(y, pixelSpan: gridHeight, cellSpan: height) {
                for x in 0..<width {
                    let value = Double(gray[y * width + x]) * Double(rowWeight)
                    for (columnCell, columnWeight) in columns[x] {
                        sums[rowCell * gridWidth + columnCell] += value * Double(columnWeight)
                    }
                }
            }
        }
        let total = Double(width * height)
        return sums.map { UInt8(min(255, ($0 / total).rounded())) }
    }

    /// The number of differing bits between two hashes (0 = identical, 64 = opposite).
    public static func hammingDistance(_ a: UInt64, _ b: UInt64) -> Int {
        (a ^ b).nonzeroBitCount
    }
}
