// fuzz-sources: Sources/PixValidate/ImageSniffer.swift Sources/PixCore/Model/ValidationRules.swift
// The format sniffer: any bytes, and only the first `prefixLength` of them decide.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let format = ImageSniffer.format(of: bytes)
    let prefix = UnsafeRawBufferPointer(rebasing: bytes.prefix(ImageSniffer.prefixLength))
    precondition(ImageSniffer.format(of: prefix) == format, "the sniffer looked past its prefix")
    return 0
}
