import Testing

@Test func placeholderPixStoreTests() {
    #expect(Bool(true))
}
