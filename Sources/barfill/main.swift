import BarfillCommands
import Foundation

// Everything lives in BarfillCommands, where tests run it in process.
exit(await BarfillMain.run(Array(CommandLine.arguments.dropFirst())))
