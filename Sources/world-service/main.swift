// The world service alone. Configuration keys: docs/configuration.md.
import MMOServer

await ServiceMain.run([.world])
