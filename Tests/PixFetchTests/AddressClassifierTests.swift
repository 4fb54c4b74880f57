import PixFetch
import Testing

/// Addresses are judged as data here; nothing in this file opens a connection.
@Suite struct AddressClassifierTests {
    @Test(arguments: [
        ("10.0.0.1", AddressClass.privateNetwork),
        ("172.16.0.1", .privateNetwork),
        ("172.31.255.254", .privateNetwork),
        ("192.168.1.1", .privateNetwork),
        ("169.254.169.254", .cloudMetadata),
        ("169.254.1.1", .linkLocal),
        ("100.64.0.1", .sharedAddressSpace),
        ("100.127.255.254", .sharedAddressSpace),
        ("127.0.0.1", .loopback),
        ("127.255.255.254", .loopback),
        ("0.0.0.0", .unspecified),
        ("0.1.2.3", .reserved),
        ("224.0.0.1", .multicast),
        ("239.255.255.250", .multicast),
        ("255.255.255.255", .broadcast),
        ("240.0.0.1", .reserved),
        ("192.0.2.10", .documentation),
        ("198.18.0.1", .reserved),
        ("8.8.8.8", .publicUnicast),
        ("1.1.1.1", .publicUnicast),
        ("172.32.0.1", .publicUnicast),
        ("100.128.0.1", .publicUnicast),
        ("fd00::1", .uniqueLocal),
        ("fc00::1", .uniqueLocal),
        ("fe80::1", .linkLocal),
        ("fd00:ec2::254", .cloudMetadata),
        ("::1", .loopback),
        ("::", .unspecified),
        ("ff02::1", .multicast),
        ("::ffff:10.0.0.1", .privateNetwork),
        ("::ffff:127.0.0.1", .loopback),
        ("::ffff:169.254.169.254", .cloudMetadata),
        ("::ffff:8.8.8.8", .publicUnicast),
        ("64:ff9b::a00:1", .privateNetwork),
        ("64:ff9b::808:808", .publicUnicast),
        ("2002:7f00:1::", .loopback),
        ("2002:808:808::1", .publicUnicast),
        ("2001:db8::1", .documentation),
        ("2001::1", .reserved),
        ("2606:4700:4700::1111", .publicUnicast),
    ])
    func classifiesAddress(_ text: String, _ expected: AddressClass) throws {
        let address = try #require(IPAddress(text))
        #expect(AddressClassifier.classify(address) == expected)
    }

    @Test(arguments: [
        "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "0177.1", "0x7F.0.0.1",
        "127.0.0.1.", "017700000001",
    ])
    func oddSpellingsOfLoopbackAreLoopback(_ host: String) throws {
        let address = try #require(IPAddress(parsingHost: host))
        #expect(address == IPAddress(127, 0, 0, 1))
        #expect(AddressClassifier.classify(host: host) == .loopback)
    }

    @Test func oddSpellingsOfOtherAddresses() {
        #expect(IPAddress(parsingHost: "10.1") == IPAddress(10, 0, 0, 1))
        #expect(IPAddress(parsingHost: "192.168.257") == IPAddress(192, 168, 1, 1))
        #expect(IPAddress(parsingHost: "0xa9fea9fe") == IPAddress(169, 254, 169, 254))
        #expect(IPAddress(parsingHost: "[::ffff:10.0.0.1]") == IPAddress("::ffff:10.0.0.1"))
        #expect(IPAddress(parsingHost: "[fe80::1%25eth0]").map(AddressClassifier.classify) == .linkLocal)
    }

    @Test(arguments: ["example.com", "256.0.0.1", "1.2.3.4.5", "08.0.0.1", "1..2", "", "4294967296", "::g", "1.2.3.x"])
    func hostNamesAndInvalidLiteralsAreNotAddresses(_ host: String) {
        #expect(IPAddress(parsingHost: host) == nil)
    }

    @Test func canonicalParserRejectsOddSpellings() {
        #expect(IPAddress("2130706433") == nil)
        #expect(IPAddress("0x7f.0.0.1") == nil)
        #expect(IPAddress("127.1") == nil)
        #expect(IPAddress("127.0.0.1") == IPAddress(v4: 0x7f00_0001))
        #expect(IPAddress("::1")?.description == "::1")
        #expect(IPAddress("2001:0db8:0000:0000:0000:0000:0000:0001")?.description == "2001:db8::1")
    }

    @Test func networkRangesParseAndMatch() throws {
        let single = try #require(NetworkRange("127.0.0.1/32"))
        #expect(single.contains(IPAddress(127, 0, 0, 1)))
        #expect(!single.contains(IPAddress(127, 0, 0, 2)))
        #expect(single.contains(try #require(IPAddress("::ffff:127.0.0.1"))))

        let private10 = try #require(NetworkRange("10.9.8.7/8"))
        #expect(private10.description == "10.0.0.0/8")
        #expect(private10.contains(IPAddress(10, 255, 0, 1)))
        #expect(!private10.contains(IPAddress(11, 0, 0, 1)))

        let v6 = try #require(NetworkRange("fd00::/8"))
        #expect(v6.contains(try #require(IPAddress("fd12:3456::1"))))
        #expect(!v6.contains(try #require(IPAddress("fe80::1"))))
        #expect(!v6.contains(IPAddress(10, 0, 0, 1)))

        #expect(NetworkRange("::1")?.prefixLength == 128)
        #expect(NetworkRange("10.0.0.0/33") == nil)
        #expect(NetworkRange("10.0.0.0/") == nil)
        #expect(NetworkRange("localhost/8") == nil)
    }

    @Test func defaultPolicyAllowsOnlyPublicUnicast() throws {
        let policy = AddressPolicy.publicOnly
        #expect(policy.evaluate(IPAddress(8, 8, 8, 8)) == .allowed)
        #expect(policy.evaluate(IPAddress(127, 0, 0, 1)) == .refused(.loopback))
        #expect(policy.evaluate(IPAddress(169, 254, 169, 254)) == .refused(.cloudMetadata))
        #expect(policy.evaluate(try #require(IPAddress("::ffff:192.168.0.1"))) == .refused(.privateNetwork))
        #expect(!policy.evaluate(try #require(IPAddress("fd00::1"))).isAllowed)
    }

    @Test func allowListOptsInExactlyItsRange() throws {
        let range = try #require(NetworkRange("127.0.0.1/32"))
        let policy = AddressPolicy(allowedNetworks: [range])
        #expect(policy.evaluate(IPAddress(127, 0, 0, 1)) == .allowedByNetwork(range))
        #expect(policy.evaluate(IPAddress(127, 0, 0, 2)) == .refused(.loopback))
        #expect(policy.evaluate(IPAddress(10, 0, 0, 1)) == .refused(.privateNetwork))
        #expect(policy.evaluate(IPAddress(8, 8, 8, 8)) == .allowed)
    }
}
