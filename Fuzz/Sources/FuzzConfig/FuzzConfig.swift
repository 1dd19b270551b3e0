// libFuzzer entry point: the input bytes are a keepalived configuration. Loading it must never
// crash, whatever it contains; diagnostics are expected and ignored.
//
// Includes are resolved against the directory the fuzzer runs in (run.sh runs it in
// Fuzz/include-dir/, which holds a few small files so that `include` lines can reach real files).
// Host checks are off: no interface lookups, no script file inspection.

import ConfigDSL
import FuzzDriver

private let loader: ConfigLoader = {
    var options = ConfigLoader.Options()
    options.preprocessor = PreprocessorOptions(
        configID: "fuzz", randomSeed: 1, environment: { name in name == "FUZZ_ENV" ? "eth0" : nil },
        maximumGeneratedLines: 100_000)
    options.decode = DecodeOptions(unknownKeywordSeverity: .error)
    options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
    return ConfigLoader(options: options)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let text = String(decoding: bytes, as: UTF8.self)
    let result = loader.load(text: text, name: "fuzz.conf", directory: ".")
    // Touch the results so that nothing is optimised away.
    var count = result.diagnostics.count
    count &+= result.config.vrrpInstances.count
    for d in result.diagnostics { count &+= d.description.utf8.count }
    return count == -1 ? 1 : 0
}

@_cdecl("FuzzConfig_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    return runLibFuzzer(argc, argv) { data, size in fuzzConfig(data, size) }
}
