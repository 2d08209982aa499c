import Foundation
import TensorCore

// Train / validation / test splits that keep every source image in one split.
//
// Crops of one photo overlap and share its content, so a test crop whose photo also gave train
// crops measures memory, not generalisation. Items are grouped by their source image (the name
// without a merged file's `input.h5/` prefix and without a `#cropKK` suffix), the groups are
// shuffled with the seed, and whole groups fill the train split, then validation, then test,
// each up to its fraction of the items. When every item is its own source (procedural images,
// one crop per photo) this is exactly a seeded shuffle of the items. When grouping would leave
// a split empty that the fractions ask for (a few photos cut into many crops), items are split
// one by one instead, as before this rule.

/// The source image an item was cut from, read off its name: `photo.png` for `photo.png#crop03`
/// and for `photos.h5/photo.png#crop03`; other names are their own source.
public func sourceImageKey(ofItemNamed name: String) -> String {
    var key = Substring(name)
    if let slash = key.lastIndex(of: "/") { key = key[key.index(after: slash)...] }
    if let marker = key.range(of: "#crop", options: .backwards),
       !key[marker.upperBound...].isEmpty, key[marker.upperBound...].allSatisfy(\.isNumber) {
        key = key[..<marker.lowerBound]
    }
    return String(key)
}

/// The three splits of a dataset's items, and whether they keep each source image whole.
struct DatasetSplitting {
    /// Item indices, each sorted.
    let train: [Int], validation: [Int], test: [Int]
    /// false when whole source images could not fill every split the fractions ask for and the
    /// items were split one by one (crops of a photo may then sit in two splits).
    let keepsSources: Bool
}

/// The three splits of items named `names`, `fractions` being the train, validation and test
/// shares (summing to 1).
func splitBySource(names: [String], fractions: [Double], seed: UInt64) -> DatasetSplitting {
    let count = names.count
    let validationCount = Int((Double(count) * fractions[1]).rounded())
    let testCount = Int((Double(count) * fractions[2]).rounded())
    let trainCount = Swift.max(0, count - validationCount - testCount)

    var groupOfKey: [String: Int] = [:]
    var groups: [[Int]] = []
    for (index, name) in names.enumerated() {
        let key = sourceImageKey(ofItemNamed: name)
        if let group = groupOfKey[key] {
            groups[group].append(index)
        } else {
            groupOfKey[key] = groups.count
            groups.append([index])
        }
    }
    var generator = RandomGenerator(seed: seed ^ 0x5EED_5EED)
    let grouped = fill(groups: generator.permutation(groups.count).map { groups[$0] },
                       trainCount: trainCount, validationCount: validationCount)
    let wanted = [trainCount, validationCount, testCount]
    let complete = zip([grouped.train, grouped.validation, grouped.test], wanted).allSatisfy { !$0.isEmpty || $1 == 0 }
    if complete || groups.count == count {
        return DatasetSplitting(train: grouped.train, validation: grouped.validation, test: grouped.test, keepsSources: true)
    }
    var itemGenerator = RandomGenerator(seed: seed ^ 0x5EED_5EED)
    let items = fill(groups: itemGenerator.permutation(count).map { [$0] }, trainCount: trainCount, validationCount: validationCount)
    return DatasetSplitting(train: items.train, validation: items.validation, test: items.test, keepsSources: false)
}

/// Whole groups, in order, into train until it holds `trainCount` items, then validation until
/// `validationCount`, then test.
private func fill(groups: [[Int]], trainCount: Int, validationCount: Int) -> (train: [Int], validation: [Int], test: [Int]) {
    var train: [Int] = [], validation: [Int] = [], test: [Int] = []
    for group in groups {
        if train.count < trainCount {
            train += group
        } else if validation.count < validationCount {
            validation += group
        } else {
            test += group
        }
    }
    return (train.sorted(), validation.sorted(), test.sorted())
}
