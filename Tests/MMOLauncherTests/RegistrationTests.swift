import Foundation
import Testing

@testable import MMOLauncher

@Suite("URL scheme registration (XDG)")
struct RegistrationTests {
    private func registration(home: String, extra: [String: String] = [:], launcher: String = "/opt/mmo/launcher", arguments: [String] = [])
        throws -> SchemeRegistration
    {
        var environment = ["HOME": home, "PATH": "/nonexistent"]
        environment.merge(extra) { $1 }
        return try SchemeRegistration(scheme: "mmo", launcherPath: launcher, extraArguments: arguments, environment: environment, runDesktopTools: false)
    }

    @Test("register writes the desktop entry and the association under HOME's defaults; unregister removes both")
    func defaultLocations() async throws {
        try await withTemporaryDirectory { home in
            let subject = try registration(home: home)
            try subject.register()
            let desktop = try #require(readText(home + "/.local/share/applications/mmo-launcher.desktop"))
            #expect(desktop.contains("\nExec=/opt/mmo/launcher %u\n"))
            #expect(desktop.contains("\nMimeType=x-scheme-handler/mmo;\n"))
            #expect(desktop.hasPrefix("[Desktop Entry]\n"))
            #expect(readText(home + "/.config/mimeapps.list") == "[Default Applications]\nx-scheme-handler/mmo=mmo-launcher.desktop\n")

            try subject.unregister()
            #expect(!fileExists(home + "/.local/share/applications/mmo-launcher.desktop"))
            #expect(!fileExists(home + "/.config/mimeapps.list"), "the file register created is gone")
        }
    }

    @Test("XDG_DATA_HOME and XDG_CONFIG_HOME are honoured; relative values are ignored as the spec says")
    func xdgVariables() async throws {
        try await withTemporaryDirectory { home in
            let subject = try registration(home: home, extra: ["XDG_DATA_HOME": home + "/data", "XDG_CONFIG_HOME": home + "/conf"])
            try subject.register()
            #expect(fileExists(home + "/data/applications/mmo-launcher.desktop"))
            #expect(fileExists(home + "/conf/mimeapps.list"))
            let relative = try registration(home: home, extra: ["XDG_DATA_HOME": "rel", "XDG_CONFIG_HOME": ""])
            #expect(relative.applicationsDirectory == home + "/.local/share/applications")
            #expect(relative.mimeappsPath == home + "/.config/mimeapps.list")
        }
    }

    @Test("other lines are preserved, a replaced handler is restored, and unregister gives back the file byte for byte")
    func preservesAndRestores() async throws {
        try await withTemporaryDirectory { home in
            let original = """
                # my associations
                [Added Associations]
                text/plain=gedit.desktop;

                [Default Applications]
                text/html=firefox.desktop
                x-scheme-handler/mmo=other-launcher.desktop
                x-scheme-handler/http=firefox.desktop

                [Removed Associations]
                image/png=gimp.desktop;

                """
            try writeFile(home + "/.config/mimeapps.list", original)
            let subject = try registration(home: home)
            try subject.register()
            let registered = try #require(readText(home + "/.config/mimeapps.list"))
            #expect(registered == original.replacingOccurrences(of: "mmo=other-launcher.desktop", with: "mmo=mmo-launcher.desktop"))
            try subject.register()  // twice: still remembers the original handler
            try subject.unregister()
            #expect(readText(home + "/.config/mimeapps.list") == original)
        }
    }

    @Test("a new line goes into an existing section, and unregister takes exactly that line out")
    func addsToExistingSection() async throws {
        try await withTemporaryDirectory { home in
            let original = "[Default Applications]\ntext/html=firefox.desktop\n\n[Added Associations]\ntext/plain=gedit.desktop;\n"
            try writeFile(home + "/.config/mimeapps.list", original)
            let subject = try registration(home: home)
            try subject.register()
            #expect(readText(home + "/.config/mimeapps.list") == "[Default Applications]\ntext/html=firefox.desktop\nx-scheme-handler/mmo=mmo-launcher.desktop\n\n[Added Associations]\ntext/plain=gedit.desktop;\n")
            try subject.unregister()
            #expect(readText(home + "/.config/mimeapps.list") == original)
        }
    }

    @Test("a section register appended to a file is removed again, the rest kept")
    func appendedSection() async throws {
        try await withTemporaryDirectory { home in
            let original = "[Added Associations]\ntext/plain=gedit.desktop;\n"
            try writeFile(home + "/.config/mimeapps.list", original)
            let subject = try registration(home: home)
            try subject.register()
            #expect(readText(home + "/.config/mimeapps.list") == original + "[Default Applications]\nx-scheme-handler/mmo=mmo-launcher.desktop\n")
            try subject.unregister()
            #expect(readText(home + "/.config/mimeapps.list") == original)
        }
    }

    @Test("an association the user changed after register is left alone by unregister")
    func userChangedAssociation() async throws {
        try await withTemporaryDirectory { home in
            let subject = try registration(home: home)
            try subject.register()
            try writeFile(home + "/.config/mimeapps.list", "[Default Applications]\nx-scheme-handler/mmo=their-choice.desktop\n")
            try subject.unregister()
            #expect(readText(home + "/.config/mimeapps.list") == "[Default Applications]\nx-scheme-handler/mmo=their-choice.desktop\n")
            #expect(!fileExists(subject.desktopFilePath))
        }
    }

    @Test("a desktop entry of the same name that is not ours is never overwritten or removed")
    func foreignDesktopFile() async throws {
        try await withTemporaryDirectory { home in
            let foreign = "[Desktop Entry]\nType=Application\nName=Something else\nExec=/usr/bin/other %u\n"
            try writeFile(home + "/.local/share/applications/mmo-launcher.desktop", foreign)
            let subject = try registration(home: home)
            #expect(throws: RegistrationError.notOurs(subject.desktopFilePath)) { try subject.register() }
            #expect(throws: RegistrationError.notOurs(subject.desktopFilePath)) { try subject.unregister() }
            #expect(readText(subject.desktopFilePath) == foreign)
            #expect(!fileExists(home + "/.config/mimeapps.list"))
        }
    }

    @Test("Exec quotes paths with spaces and special characters and keeps extra arguments before %u")
    func execQuoting() throws {
        let subject = try SchemeRegistration(
            scheme: "mmo", launcherPath: "/home/a b/My \"Game\"/launcher$1", extraArguments: ["--config", "/home/a b/100%.json"],
            environment: ["HOME": "/home/a"], runDesktopTools: false)
        #expect(subject.execLine() == #""/home/a b/My \\"Game\\"/launcher\\$1" --config "/home/a b/100%%.json" %u"#)
        #expect(SchemeRegistration.quoteExecArgument("/opt/mmo/launcher") == "/opt/mmo/launcher")
    }

    @Test("bad schemes, relative launcher paths and a missing HOME are refused")
    func refusals() {
        #expect(throws: RegistrationError.invalidScheme("m m")) {
            try SchemeRegistration(scheme: "m m", launcherPath: "/x", environment: ["HOME": "/h"])
        }
        #expect(throws: RegistrationError.unsafeLauncherPath("launcher")) {
            try SchemeRegistration(scheme: "mmo", launcherPath: "launcher", environment: ["HOME": "/h"])
        }
        #expect(throws: RegistrationError.noHome) { try SchemeRegistration(scheme: "mmo", launcherPath: "/x", environment: [:]) }
    }
}
