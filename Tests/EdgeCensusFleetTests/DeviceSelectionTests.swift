import EdgeCensusFleet
import EdgeCensusTestSupport
import Foundation
import Testing

/// Which devices a fleet change goes to.
@Suite("Choosing devices")
struct DeviceSelectionTests {
    @Test("a shell pattern picks among the devices the broker knows")
    func pattern() {
        let known = ["hall", "shop-1", "shop-2", "shop-10", "yard"]
        #expect(DeviceSelection.pattern("shop-*").devices(known: known) == ["shop-1", "shop-2", "shop-10"])
        #expect(DeviceSelection.pattern("shop-?").devices(known: known) == ["shop-1", "shop-2"])
        #expect(DeviceSelection.pattern("*").devices(known: known) == known)
        #expect(DeviceSelection.pattern("nowhere").devices(known: known).isEmpty)
    }

    @Test("a list file gives its ids in order, once each, comments and blank lines ignored, known or not")
    func listFile() throws {
        let directory = try TemporaryDirectory()
        let file = directory.file("devices.txt")
        try writeFile(file, Data("# stores\nshop-2\n\n  shop-1  # front\nshop-2\nghost\n".utf8))
        let selection = try DeviceSelection.list(fromFile: file)
        #expect(selection == .list(["shop-2", "shop-1", "ghost"]))
        #expect(selection.devices(known: ["shop-1"]) == ["shop-2", "shop-1", "ghost"])
    }

    @Test("a list that names a topic instead of an id, lists nothing, or is missing is refused with the reason")
    func badLists() throws {
        let directory = try TemporaryDirectory()
        try writeFile(directory.file("topics.txt"), Data("edgecensus/shop-1\n".utf8))
        try writeFile(directory.file("empty.txt"), Data("# none yet\n".utf8))
        #expect(throws: DeviceSelection.Unreadable.self) {
            try DeviceSelection.list(fromFile: directory.file("topics.txt"))
        }
        do {
            _ = try DeviceSelection.list(fromFile: directory.file("topics.txt"))
        } catch {
            #expect(error.description.contains("'edgecensus/shop-1' is not a device id"))
        }
        do {
            _ = try DeviceSelection.list(fromFile: directory.file("empty.txt"))
        } catch {
            #expect(error.description.contains("lists no device"))
        }
        do {
            _ = try DeviceSelection.list(fromFile: directory.file("missing.txt"))
        } catch {
            #expect(error.description.contains("missing.txt"))
        }
    }
}
