import Foundation

/// Pythons with pinned PyPI packages for tests that read exports the way training code does.
public enum TestPython {
    /// The packages of the WebDataset venv (the same pins as `.ci/run` installs).
    public static let webDatasetRequirements = ["webdataset==0.2.100", "Pillow==10.4.0"]

    /// A python with `webdataset` and `Pillow`: `PIXCRAWL_TEST_WDS_PYTHON`, else `.build-tools/wds` in the package
    /// root, created on first use (`.ci/run` creates it too).
    public static func webDataset() async throws -> String {
        if let path = ProcessInfo.processInfo.environment["PIXCRAWL_TEST_WDS_PYTHON"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build-tools/wds").path
        let python = venv + "/bin/python"
        if FileManager.default.isExecutableFile(atPath: python),
            (try? await TestProcess.runDetached([python, "-c", "import webdataset, PIL"]))?.status == 0
        {
            return python
        }
        for step in [
            ["python3", "-m", "venv", venv],
            [venv + "/bin/pip", "install", "-q", "--disable-pip-version-check"] + webDatasetRequirements,
        ] {
            let output = try await TestProcess.runDetached(step)
            guard output.status == 0 else { throw TestSupportError("\(step.joined(separator: " ")): \(output.stderr)") }
        }
        return python
    }
}
