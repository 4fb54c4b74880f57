import Testing

@Test func placeholderPixCrawlCLITests() {
    #expect(Bool(true))
}
