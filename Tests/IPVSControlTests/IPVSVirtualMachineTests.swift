import Foundation
import IntegrationSupport
import NetLinux
import SystemPackage
import Testing
@testable import IPVSControl

// The host side of the kernel tests: runs this very test binary inside the IPVS VM
// (tools/ipvs-vm: QEMU with Debian's 6.1 kernel and ip_vs loaded) with
// `--filter IPVSKernelTests`, and checks that those tests ran and passed there.
//
// The VM tool is looked up at $KAD_IPVS_VM, Scripts/ipvs-vm in the package, ../shared/tools/ipvs-vm
// next to the package, then `ipvs-vm` on PATH. Without it (or when it cannot set itself up)
// the test is skipped with a message, and fails under KAD_REQUIRE_INTEGRATION=1.

enum IPVSVirtualMachine {
    /// The package's root directory (this file is Tests/IPVSControlTests/...).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let tool: String? = {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["KAD_IPVS_VM"], !explicit.isEmpty { candidates.append(explicit) }
        candidates.append(packageRoot + "/Scripts/ipvs-vm")
        candidates.append(URL(fileURLWithPath: packageRoot).deletingLastPathComponent().path + "/shared/tools/ipvs-vm")
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/ipvs-vm")
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Skips with a message, or records a failure under KAD_REQUIRE_INTEGRATION=1.
    static func unavailable(_ reason: String, test: String = #function) {
        if Integration.required {
            Issue.record("IPVS VM test \(test) cannot run (\(reason)) but KAD_REQUIRE_INTEGRATION=1")
        } else {
            print("skipped \(test): \(reason) (set KAD_REQUIRE_INTEGRATION=1 to make this a failure)")
        }
    }
}

extension HostAccessSuites {
    @Suite("IPVS on the host and in the IPVS VM", .serialized)
    struct IPVSVirtualMachineTests {
        @Test("the kernel tests run in the IPVS VM and pass there")
        func kernelTestsInVM() throws {
            guard !IPVSKernel.inVM else { return }   // already inside: IPVSKernelTests run directly
            guard let tool = IPVSVirtualMachine.tool else {
                IPVSVirtualMachine.unavailable("tools/ipvs-vm not found (set KAD_IPVS_VM to its path)")
                return
            }
            let setup = try Shell.capture([tool, "-q", "--setup"])
            guard setup.status == 0 else {
                IPVSVirtualMachine.unavailable("\(tool) --setup failed (\(setup.status)): \(setup.output.suffix(500))")
                return
            }
            let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            // kadTests' DaemonLVSIPVSKernelTests runs the kad executable beside this binary.
            let kad = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("kad").path
            var copies = ["--copy", binary]
            if FileManager.default.isExecutableFile(atPath: kad) { copies += ["--copy", kad] }
            let run = try Shell.capture([tool, "-q", "--timeout", "900"] + copies + ["--",
                                         binary, "--testing-library", "swift-testing", "--filter", "IPVSKernelTests"])
            let summary = run.output.split(separator: "\n").last { $0.contains("Test run with") }.map(String.init) ?? ""
            #expect(run.status == 0, "the kernel tests failed in the VM (exit \(run.status)):\n\(run.output.suffix(20_000))")
            #expect(summary.contains("passed"), "\(summary)")
            // All of IPVSKernelTests (8), ReconcilerIPVSKernelTests (4) and kadTests'
            // DaemonLVSIPVSKernelTests (5) must have run: a filter that matched nothing would pass too.
            let words = summary.split(separator: " ")
            let count = words.firstIndex(of: "with").flatMap { words.index(after: $0) < words.endIndex ? Int(words[$0 + 1]) : nil } ?? 0
            #expect(count >= 17, "only \(count) tests ran in the VM: \(summary)")
            print("IPVS VM: \(summary)")
        }

        @Test("without an IPVS family, the client asks the module loader once and says the module is not loaded")
        func missingModule() throws {
            guard !IPVSKernel.present else { return }   // in the VM the family exists
            let calls = Calls()
            let loader = IPVSModuleLoader {
                calls.increment()
                return "not in this test"
            }
            let error = thrown(NetLinuxError.self) { _ = try IPVSClient(moduleLoader: loader) }
            #expect(calls.count == 1)
            #expect(error?.description == "looking up the IPVS generic netlink family: no such file or directory "
                + "(the ip_vs kernel module is not loaded, and loading it failed: not in this test)")
        }

        @Test("the modprobe loader reports a module that cannot be loaded")
        func modprobeFailure() throws {
            let failure = IPVSModuleLoader.runModprobe(module: "kad_no_such_module_\(getpid())")
            #expect(failure != nil)
            #expect(failure?.contains("modprobe") == true, "\(String(describing: failure))")
        }
    }
}

private final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}
