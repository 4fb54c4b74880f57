import Testing

@Test func placeholderPixFetchTests() {
    #expect(Bool(true))
}
