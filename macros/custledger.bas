Attribute VB_Name = "custledger"
' custledger: one Sub per button on the Home sheet (首页). Each one runs Python through
' xlwings' RunPython (module "xlwings" in this workbook, or the xlwings add-in); the Python
' side is custledger/xl.py. Setup (interpreter, trust settings): docs/excel.md.
Option Explicit

Public Sub CustledgerValidate()
    RunPython "import custledger.xl; custledger.xl.validate()"
End Sub

Public Sub CustledgerReconcile()
    RunPython "import custledger.xl; custledger.xl.reconcile()"
End Sub

Public Sub CustledgerAging()
    RunPython "import custledger.xl; custledger.xl.aging()"
End Sub

Public Sub CustledgerLetters()
    RunPython "import custledger.xl; custledger.xl.letters()"
End Sub

Public Sub CustledgerTiers()
    RunPython "import custledger.xl; custledger.xl.tiers()"
End Sub

Public Sub CustledgerReminders()
    RunPython "import custledger.xl; custledger.xl.reminders()"
End Sub

Public Sub CustledgerCard()
    RunPython "import custledger.xl; custledger.xl.card()"
End Sub

Public Sub CustledgerStatements()
    RunPython "import custledger.xl; custledger.xl.statements()"
End Sub

Public Sub CustledgerImport_Invoices()
    RunPython "import custledger.xl; custledger.xl.import_invoices()"
End Sub

Public Sub CustledgerClose()
    RunPython "import custledger.xl; custledger.xl.close()"
End Sub

Public Sub CustledgerSend()
    RunPython "import custledger.xl; custledger.xl.send()"
End Sub
