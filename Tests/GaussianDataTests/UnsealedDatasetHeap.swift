import SplatIO
import TestSupport
@testable import GaussianData

/// Rewrites the root attributes of the dataset at `path` as a build before fixed-length strings
/// wrote them (the format and settings, its strings variable-length in a global heap) and
/// leaves the file unsealed, as such a build left every dataset until it finished.
func moveStringsIntoAGlobalHeap(ofDatasetAt path: String) throws {
    let file = try HDF5File(opening: path, mode: .readWrite)
    let settings = try DatasetSettings(reading: file)
    try file.sealAtClose()  // the strings of a file sealed at close are variable-length
    try file.setFormat(GaussianDatasetFile.format, version: GaussianDatasetFile.formatVersion)
    try settings.write(to: file)
    try file.close()
    try clearSeal(of: path)
}
