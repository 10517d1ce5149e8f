; Inno Setup script for Desktop Registry on Windows (Inno Setup 6). Build it with
;   python installer\windows\build_installer.py          (checks inputs, then runs ISCC)
; or by hand: ISCC /DAppVersion=0.1.0 /DBundleDir=<repo>\dist\desktop-registry installer\windows\desktop-registry.iss
; It installs the PyInstaller bundle per user (no admin rights needed), adds a Start-menu
; shortcut (and an optional desktop one) and an uninstaller; uninstalling leaves the user's
; registry in %LOCALAPPDATA%\DesktopRegistry in place.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\desktop-registry"
#endif
#define AppName "Desktop Registry"
#define AppExe "desktop-registry.exe"

[Setup]
; One AppId forever: an update installs over the old version instead of beside it.
AppId={{6F1B7C2E-3D4A-4E5F-9A8B-1C2D3E4F5A6B}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Desktop Registry maintainers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=desktop-registry-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\desktop-registry.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; An open window would keep its files in use: ask it to close first.
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An update replaces the bundle whole: files an older version had must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
